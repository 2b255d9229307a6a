package metrics

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// conllCounter is a port of conlleval.pl's main loop: it consumes one line at
// a time (a token or a sentence boundary) and keeps the script's counters.
type conllCounter struct {
	inCorrect                  bool
	lastCorrect, lastGuessed   string
	lastCorrectT, lastGuessedT string
	started                    bool

	correctChunk, foundCorrect, foundGuessed int
	correctTags, tokenCounter                int
	byType                                   map[string]*counts
	// keysCorrect/keysGuessed record which types exist as keys of
	// conlleval.pl's %foundCorrect/%foundGuessed (for its type listing).
	keysCorrect, keysGuessed map[string]bool
}

func (c *conllCounter) typ(t string) *counts {
	if c.byType == nil {
		c.byType = map[string]*counts{}
		c.keysCorrect = map[string]bool{}
		c.keysGuessed = map[string]bool{}
	}
	x := c.byType[t]
	if x == nil {
		x = &counts{}
		c.byType[t] = x
	}
	return x
}

// add processes one line: a boundary (blank line or "-X-" first field, read as
// tags O O), or a token with its gold and predicted tags.
func (c *conllCounter) add(boundary bool, goldTag, predTag string) {
	if !c.started {
		c.started = true
		c.lastCorrect, c.lastGuessed = "O", "O"
	}
	correct, correctType := splitConll(goldTag)
	guessed, guessedType := splitConll(predTag)
	if boundary {
		correct, correctType, guessed, guessedType = "O", "", "O", ""
	}
	endC := endOfChunk(c.lastCorrect, correct, c.lastCorrectT, correctType)
	endG := endOfChunk(c.lastGuessed, guessed, c.lastGuessedT, guessedType)
	if c.inCorrect {
		if endC && endG && c.lastGuessedT == c.lastCorrectT {
			c.inCorrect = false
			c.correctChunk++
			c.typ(c.lastCorrectT).correct++
		} else if endC != endG || guessedType != correctType {
			c.inCorrect = false
		}
	}
	startC := startOfChunk(c.lastCorrect, correct, c.lastCorrectT, correctType)
	startG := startOfChunk(c.lastGuessed, guessed, c.lastGuessedT, guessedType)
	if startC && startG && guessedType == correctType {
		c.inCorrect = true
	}
	if startC {
		c.foundCorrect++
		c.typ(correctType).gold++
		c.keysCorrect[correctType] = true
	}
	if startG {
		c.foundGuessed++
		c.typ(guessedType).pred++
		c.keysGuessed[guessedType] = true
	}
	if !boundary {
		if correct == guessed && guessedType == correctType {
			c.correctTags++
		}
		c.tokenCounter++
	}
	c.lastGuessed, c.lastCorrect = guessed, correct
	c.lastGuessedT, c.lastCorrectT = guessedType, correctType
}

// finish counts a chunk still open at the end of the input.
func (c *conllCounter) finish() {
	if c.inCorrect {
		c.inCorrect = false
		c.correctChunk++
		c.typ(c.lastCorrectT).correct++
	}
}

func (c *conllCounter) report(opts Options) *Report {
	c.finish()
	byType := c.byType
	if byType == nil {
		byType = map[string]*counts{}
	}
	return buildReport(opts, byType, c.tokenCounter, c.correctTags)
}

// write prints conlleval.pl's (non-LaTeX) report.
func (c *conllCounter) write(w io.Writer) error {
	c.finish()
	b := &strings.Builder{}
	var precision, recall, fb1 float64
	if c.foundGuessed > 0 {
		precision = 100 * float64(c.correctChunk) / float64(c.foundGuessed)
	}
	if c.foundCorrect > 0 {
		recall = 100 * float64(c.correctChunk) / float64(c.foundCorrect)
	}
	if precision+recall > 0 {
		fb1 = 2 * precision * recall / (precision + recall)
	}
	fmt.Fprintf(b, "processed %d tokens with %d phrases; ", c.tokenCounter, c.foundCorrect)
	fmt.Fprintf(b, "found: %d phrases; correct: %d.\n", c.foundGuessed, c.correctChunk)
	if c.tokenCounter > 0 {
		fmt.Fprintf(b, "accuracy: %6.2f%%; ", 100*float64(c.correctTags)/float64(c.tokenCounter))
		fmt.Fprintf(b, "precision: %6.2f%%; ", precision)
		fmt.Fprintf(b, "recall: %6.2f%%; ", recall)
		fmt.Fprintf(b, "FB1: %6.2f\n", fb1)
	}
	// sort (keys %foundCorrect, keys %foundGuessed) and drop repeats the way
	// the script does: "not($lastType)" is true for "" and "0", so those
	// types are listed twice when both hashes have them.
	var keys []string
	for k := range c.keysCorrect {
		keys = append(keys, k)
	}
	for k := range c.keysGuessed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var types []string
	for i, k := range keys {
		if i == 0 || keys[i-1] == "" || keys[i-1] == "0" || keys[i-1] != k {
			types = append(types, k)
		}
	}
	for _, t := range types {
		x := c.byType[t]
		precision, recall, fb1 = 0, 0, 0
		if x.pred > 0 {
			precision = 100 * float64(x.correct) / float64(x.pred)
		}
		if x.gold > 0 {
			recall = 100 * float64(x.correct) / float64(x.gold)
		}
		if precision+recall != 0 {
			fb1 = 2 * precision * recall / (precision + recall)
		}
		fmt.Fprintf(b, "%17s: ", t)
		fmt.Fprintf(b, "precision: %6.2f%%; ", precision)
		fmt.Fprintf(b, "recall: %6.2f%%; ", recall)
		fmt.Fprintf(b, "FB1: %6.2f  %d\n", fb1, x.pred)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ConllOptions configures ReadConll, like conlleval.pl's options. The zero
// value reads conlleval's default format.
type ConllOptions struct {
	// Delimiter separates fields (conlleval -d); "" splits on runs of white
	// space (conlleval.pl splits on single spaces: inputs that differ only in
	// repeated spaces or tabs are accepted here and rejected there).
	Delimiter string
	// Raw: tags are bare types, one chunk per token (conlleval -r): "X"
	// becomes "B-X" and OTag becomes "O". Raw tags are not validated.
	Raw bool
	// OTag is the outside tag of raw input (conlleval -o); "" means "O".
	OTag string
	// Boundary is the first field of a line that separates sentences like a
	// blank line; "" means conlleval's "-X-".
	Boundary string
}

// Validate reports an invalid field.
func (o ConllOptions) Validate() error {
	if strings.ContainsAny(o.Delimiter, "\n") {
		return fmt.Errorf("metrics: conll options: Delimiter %q contains a newline", o.Delimiter)
	}
	return nil
}

// Sentence is one sentence of a conlleval file.
type Sentence struct {
	Fields [][]string // each token's fields before the two tags
	Gold   []string
	Pred   []string
	Lines  []int // each token's 1-based line number
}

// Corpus is a conlleval file: its sentences and whether it ended with a
// sentence boundary (which conlleval.pl processes as one more token O O).
type Corpus struct {
	Name             string
	Sentences        []Sentence
	EndsWithBoundary bool
}

// Gold returns the gold tags of every sentence.
func (c *Corpus) Gold() [][]string {
	out := make([][]string, len(c.Sentences))
	for i, s := range c.Sentences {
		out[i] = s.Gold
	}
	return out
}

// Pred returns the predicted tags of every sentence.
func (c *Corpus) Pred() [][]string {
	out := make([][]string, len(c.Sentences))
	for i, s := range c.Sentences {
		out[i] = s.Pred
	}
	return out
}

// validTag reports whether tag is O or PREFIX-TYPE with a non-empty prefix
// (without '-') and a non-empty type.
func validTag(tag string) bool {
	if tag == "O" {
		return true
	}
	i := strings.IndexByte(tag, '-')
	return i > 0 && i < len(tag)-1
}

// ReadConll reads conlleval's input format from r; name (a file name) prefixes
// errors. Every non-blank line needs the same number of fields (at least 2),
// the last two the gold and predicted tags, each O or PREFIX-TYPE (unless
// Raw). Errors name the file and line.
func ReadConll(r io.Reader, name string, opts ConllOptions) (*Corpus, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	boundary := opts.Boundary
	if boundary == "" {
		boundary = "-X-"
	}
	oTag := opts.OTag
	if oTag == "" {
		oTag = "O"
	}
	c := &Corpus{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	nf := -1
	var cur Sentence
	lineNo := 0
	flush := func() {
		if len(cur.Gold) > 0 {
			c.Sentences = append(c.Sentences, cur)
		}
		cur = Sentence{}
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSuffix(sc.Text(), "\r")
		var f []string
		if opts.Delimiter == "" {
			f = strings.Fields(line)
		} else {
			f = strings.Split(line, opts.Delimiter)
			for len(f) > 0 && f[len(f)-1] == "" { // Perl's split drops trailing empty fields
				f = f[:len(f)-1]
			}
		}
		if len(f) == 0 || f[0] == boundary {
			if len(f) > 0 && nf >= 0 && len(f) != nf {
				return nil, fmt.Errorf("metrics: read %s:%d: %d fields, want %d", name, lineNo, len(f), nf)
			}
			if len(f) > 0 && nf < 0 {
				nf = len(f)
			}
			flush()
			c.EndsWithBoundary = true
			continue
		}
		if nf < 0 {
			nf = len(f)
		} else if len(f) != nf {
			return nil, fmt.Errorf("metrics: read %s:%d: %d fields, want %d", name, lineNo, len(f), nf)
		}
		if len(f) < 2 {
			return nil, fmt.Errorf("metrics: read %s:%d: %d field, want at least 2 (… gold predicted)", name, lineNo, len(f))
		}
		gold, pred := f[len(f)-2], f[len(f)-1]
		if opts.Raw {
			gold, pred = rawTag(gold, oTag), rawTag(pred, oTag)
		} else {
			for _, t := range [2]string{gold, pred} {
				if !validTag(t) {
					return nil, fmt.Errorf("metrics: read %s:%d: tag %q is neither O nor PREFIX-TYPE", name, lineNo, t)
				}
			}
		}
		cur.Fields = append(cur.Fields, f[:len(f)-2])
		cur.Gold = append(cur.Gold, gold)
		cur.Pred = append(cur.Pred, pred)
		cur.Lines = append(cur.Lines, lineNo)
		c.EndsWithBoundary = false
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("metrics: read %s:%d: %w", name, lineNo+1, err)
	}
	flush()
	return c, nil
}

func rawTag(t, oTag string) string {
	if t == oTag || t == "O" {
		return "O"
	}
	return "B-" + t
}

// counter runs conlleval.pl's loop over the corpus: sentence boundaries
// between sentences and, if the file ended with one, at the end.
func (c *Corpus) counter() *conllCounter {
	var cc conllCounter
	for i, s := range c.Sentences {
		if i > 0 {
			cc.add(true, "O", "O")
		}
		for j := range s.Gold {
			cc.add(false, s.Gold[j], s.Pred[j])
		}
	}
	if c.EndsWithBoundary && len(c.Sentences) > 0 {
		cc.add(true, "O", "O")
	}
	return &cc
}

// WriteConlleval writes conlleval.pl's report for the corpus, byte for byte as
// `perl conlleval.pl < file` prints it.
func WriteConlleval(w io.Writer, c *Corpus) error {
	if err := c.counter().write(w); err != nil {
		return fmt.Errorf("metrics: write conlleval report: %w", err)
	}
	return nil
}

// ConllevalReport returns the Report of conlleval.pl's counts for the corpus
// (Conlleval mode, honouring where the file's boundaries are).
func ConllevalReport(c *Corpus, opts Options) *Report {
	opts.Mode = Conlleval
	return c.counter().report(opts)
}
