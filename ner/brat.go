package ner

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BRATOptions configures ReadBRAT.
type BRATOptions struct {
	// Lenient turns format errors into Corpus.Warnings: a malformed
	// text-bound line, bad offsets or a text mismatch leave that
	// annotation out; a missing .ann file reads as no annotations; an empty
	// document is skipped.
	Lenient bool
}

// Validate checks the options (every combination is valid).
func (o BRATOptions) Validate() error { return nil }

// ReadBRAT reads brat standoff files: path is a directory (every .txt file
// below it, with the .ann file of the same name beside it) or one .txt or
// .ann file (its partner is found by name). Text-bound annotation lines
//
//	T1<TAB>Disorder 10 25<TAB>dor torácica
//	T2<TAB>Anatomy 14 20;30 35<TAB>torácica braço
//
// give entities; offsets are character (Unicode code point, i.e. rune)
// offsets into the .txt file as brat's Python server counts them, end
// exclusive; discontinuous fragments are separated by ";" and their texts
// joined by one space in the third column, which must match the text.
// Lines of other kinds (A attributes, R relations, E events, # notes, N
// normalizations, * equivalences, M modifications) are ignored and counted
// in Report.IgnoredLines. Words and sentences come from package tokenize;
// nested spans keep the outermost in Sentence.Tags and all in
// Sentence.Labels, a discontinuous annotation is tagged from its first
// fragment's start to its last fragment's end; everything adapted is
// counted in Corpus.Report and described in Corpus.Warnings.
func ReadBRAT(path string, o BRATOptions) (*Corpus, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if strings.HasSuffix(strings.ToLower(path), ".ann") {
		path = path[:len(path)-4] + ".txt"
	}
	return readStandoff(path, ".txt", o.Lenient, readBRATDocument)
}

// readStandoff reads every file of listFiles(path, {ext}) with read (nil for
// a skipped document) into an IOB2 corpus whose document IDs and groups
// are the files' IDs: the loop that ReadBRAT and ReadSemClinBr share.
func readStandoff(path, ext string, lenient bool, read func(path string, p *problems, rep *Report) (*Document, error)) (*Corpus, error) {
	files, err := listFiles(path, []string{ext})
	if err != nil {
		return nil, err
	}
	c := &Corpus{Scheme: IOB2}
	p := &problems{lenient: lenient}
	for _, f := range files {
		d, err := read(f.path, p, &c.Report)
		if err != nil {
			return nil, err
		}
		c.Report.Files++
		if d == nil {
			continue
		}
		d.ID, d.Group = f.id, f.id
		c.Documents = append(c.Documents, *d)
	}
	c.Warnings = p.warnings
	c.Report.Skipped = p.skipped
	if len(c.Documents) == 0 {
		return nil, fmt.Errorf("ner: read %s: no documents", path)
	}
	return c, nil
}

func readBRATDocument(txtPath string, p *problems, rep *Report) (*Document, error) {
	b, err := os.ReadFile(txtPath)
	if err != nil {
		return nil, fmt.Errorf("ner: read %w", err)
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("ner: read %s: not valid UTF-8", txtPath)
	}
	text := string(b)
	annPath := txtPath[:len(txtPath)-len(".txt")] + ".ann"
	var anns []*annotation
	f, err := os.Open(annPath)
	switch {
	case os.IsNotExist(err):
		if ferr := p.fail(fmt.Errorf("ner: read %s: missing annotation file %s", txtPath, annPath)); ferr != nil {
			return nil, ferr
		}
	case err != nil:
		return nil, fmt.Errorf("ner: read %w", err)
	default:
		anns, err = parseBRATAnn(f, annPath, []rune(text), p, rep)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	sents := buildStandoff(text, anns, p, rep)
	if len(sents) == 0 {
		if err := p.fail(fmt.Errorf("ner: read %s: empty document (no words)", txtPath)); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return &Document{Source: joinSources(txtPath, annPath), Text: text, Sentences: sents}, nil
}

// parseBRATAnn reads the text-bound annotations of an .ann stream.
func parseBRATAnn(r io.Reader, path string, runes []rune, p *problems, rep *Report) ([]*annotation, error) {
	var anns []*annotation
	br := bufio.NewReader(r)
	for lineNo := 1; ; lineNo++ {
		line, rerr := br.ReadString('\n')
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("ner: read %s:%d: %w", path, lineNo, rerr)
		}
		if line == "" && rerr == io.EOF {
			break
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) != "" {
			if line[0] == 'T' {
				rep.Annotations++
				a, err := parseBRATLine(line, fmt.Sprintf("%s:%d", path, lineNo), runes)
				if err != nil {
					if ferr := p.fail(err); ferr != nil {
						return nil, ferr
					}
				} else {
					anns = append(anns, a)
				}
			} else {
				kind := line[:1]
				if !strings.Contains("AREN#*M", kind) {
					if ferr := p.fail(fmt.Errorf("ner: read %s:%d: unknown annotation line %q", path, lineNo, truncate(line, 40))); ferr != nil {
						return nil, ferr
					}
					kind = "?"
				}
				if rep.IgnoredLines == nil {
					rep.IgnoredLines = map[string]int{}
				}
				rep.IgnoredLines[kind]++
			}
		}
		if rerr == io.EOF {
			break
		}
	}
	return anns, nil
}

// parseBRATLine parses "T1<TAB>Type s e[;s e…]<TAB>text" and checks it
// against the text.
func parseBRATLine(line, where string, runes []rune) (*annotation, error) {
	cols := strings.SplitN(line, "\t", 3)
	if len(cols) < 2 {
		return nil, fmt.Errorf("ner: read %s: missing column: text-bound line %q needs ID<TAB>Type start end<TAB>text", where, truncate(line, 40))
	}
	id := cols[0]
	fields := strings.Fields(cols[1])
	if len(fields) < 3 {
		return nil, fmt.Errorf("ner: read %s: %s: missing column: want \"Type start end\", got %q", where, id, cols[1])
	}
	typ := fields[0]
	var frags [][2]int
	for _, part := range strings.Split(strings.Join(fields[1:], " "), ";") {
		se := strings.Fields(part)
		if len(se) != 2 {
			return nil, fmt.Errorf("ner: read %s: %s: bad offsets %q", where, id, part)
		}
		s, err1 := strconv.Atoi(se[0])
		e, err2 := strconv.Atoi(se[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("ner: read %s: %s: bad offsets %q", where, id, part)
		}
		frags = append(frags, [2]int{s, e})
	}
	if err := checkOffsets(frags, len(runes)); err != nil {
		return nil, fmt.Errorf("ner: read %s: %s: %w", where, id, err)
	}
	if len(cols) == 3 {
		parts := make([]string, len(frags))
		for i, f := range frags {
			parts[i] = runeSlice(runes, f[0], f[1])
		}
		got := strings.Join(parts, " ")
		if got != cols[2] && !sameModuloSpace(got, cols[2]) {
			return nil, fmt.Errorf("ner: read %s: %s at offset %d-%d: text %q does not match the document's %q", where, id, frags[0][0], frags[len(frags)-1][1], cols[2], got)
		}
	}
	return &annotation{id: id, where: where, labels: []string{typ}, frags: frags}, nil
}

// truncate shortens s to at most n runes for messages.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
