package ner

import (
	"fmt"
	"sort"
	"strings"
)

// Document is one annotated text: a CLINpt spreadsheet, a SemClinBr note, a
// BRAT .txt/.ann pair or one -DOCSTART- block of a CoNLL file.
type Document struct {
	// ID names the document uniquely within its corpus (file name without
	// extension, "file#n" for the n-th -DOCSTART- block of a CoNLL file).
	// Split file lists hold IDs.
	ID string
	// Group names the text the document is part of: documents with the same
	// Group always fall into the same split. Readers set it to ID except
	// ReadCLINpt, which strips the part number (see CLINptGroup).
	Group string
	// Source is the file path (or paths, joined by ";") the document was read from.
	Source string
	// Text is the original text when the format has one (SemClinBr, BRAT),
	// "" for token tables (CoNLL, CLINpt).
	Text string
	// Sentences hold the words and their tags.
	Sentences []Sentence
}

// Sentence is a sequence of words with one tag per word.
type Sentence struct {
	// Words are the tokens as they appear in the source.
	Words []string
	// Tags holds one tag per word in the corpus scheme (IOB2 unless converted).
	Tags []string
	// Labels holds, per word, the set of entity tags of a multi-label
	// corpus (SemClinBr, BRAT): for every entity label covering the word one
	// "B-<label>" or "I-<label>" string, IOB2 per label, sorted by label.
	// Labels is nil for single-label corpora (CoNLL, CLINpt).
	Labels [][]string
	// Starts and Ends are the rune offsets of each word in Document.Text
	// (End exclusive); nil when the corpus has no original text.
	Starts, Ends []int
}

// Corpus is a collection of documents tagged in one scheme.
type Corpus struct {
	// Documents in reading order (files sorted by path).
	Documents []Document
	// Scheme of every Sentence.Tags (Labels are always IOB2).
	Scheme Scheme
	// Warnings lists the problems a lenient reader skipped or repaired and
	// the annotations a standoff reader could not represent exactly, one
	// message each, naming file and line or offset.
	Warnings []string
	// Report counts what the reader saw and how it was represented.
	Report Report
}

// Report counts what a reader saw and what it had to adapt. Every annotation
// that is not represented exactly in Sentence.Tags is counted here and
// described in Corpus.Warnings (or, for the common cases Overlapping and
// MultiLabel, only counted: those are kept in full in Sentence.Labels).
type Report struct {
	// Files read.
	Files int
	// Annotations read from standoff files (SemClinBr annotation elements,
	// BRAT T lines).
	Annotations int
	// MultiLabel counts annotations with more than one label ("A|B"): all
	// labels are in Sentence.Labels, the first one in Sentence.Tags.
	MultiLabel int
	// Overlapping counts annotations that share a word with an annotation
	// chosen earlier for Sentence.Tags and so appear only in Sentence.Labels
	// (and, when they overlap one of the same label, not even there).
	Overlapping int
	// Nested counts annotations lying entirely inside another annotation.
	Nested int
	// SameLabelOverlap counts annotations dropped from Sentence.Labels
	// because they overlap an earlier kept annotation of the same label
	// (IOB2 per label cannot hold both).
	SameLabelOverlap int
	// Discontinuous counts BRAT annotations with several fragments; they are
	// tagged from the start of the first to the end of the last fragment.
	Discontinuous int
	// PartialWord counts annotations whose start or end falls inside a word:
	// the whole word is tagged.
	PartialWord int
	// CrossSentence counts annotations that run over a sentence boundary: the
	// part in each sentence becomes its own entity.
	CrossSentence int
	// NoWord counts annotations covering no word at all (only whitespace):
	// they cannot be tagged.
	NoWord int
	// IgnoredLines counts BRAT lines that are not text-bound annotations, by
	// kind: "A" (attributes), "R" (relations), "E" (events), "#" (notes),
	// "N" (normalizations), "*" (equivalences), "M" (modifications).
	IgnoredLines map[string]int
	// InvalidTransitions counts tags that the scheme does not allow where
	// they stand (e.g. IOB2 "I-X" after "O"); they are kept as read and
	// Corpus.RepairTags fixes them.
	InvalidTransitions int
	// Skipped counts problems a lenient reader turned into warnings.
	Skipped int
}

func (r *Report) add(o Report) {
	r.Files += o.Files
	r.Annotations += o.Annotations
	r.MultiLabel += o.MultiLabel
	r.Overlapping += o.Overlapping
	r.Nested += o.Nested
	r.SameLabelOverlap += o.SameLabelOverlap
	r.Discontinuous += o.Discontinuous
	r.PartialWord += o.PartialWord
	r.CrossSentence += o.CrossSentence
	r.NoWord += o.NoWord
	r.InvalidTransitions += o.InvalidTransitions
	r.Skipped += o.Skipped
	for k, v := range o.IgnoredLines {
		if r.IgnoredLines == nil {
			r.IgnoredLines = map[string]int{}
		}
		r.IgnoredLines[k] += v
	}
}

// problems collects format errors: strict mode returns the first as an error,
// lenient mode keeps a warning for each and counts them.
type problems struct {
	lenient  bool
	warnings []string
	skipped  int
}

// fail reports a problem. In strict mode it returns the error to stop
// reading; in lenient mode it records a warning and returns nil.
func (p *problems) fail(err error) error {
	if !p.lenient {
		return err
	}
	p.warnings = append(p.warnings, err.Error())
	p.skipped++
	return nil
}

// warn records a message that is never an error.
func (p *problems) warn(format string, a ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, a...))
}

// Types returns the sorted entity types occurring in the corpus tags (and
// labels, for multi-label corpora).
func Types(c *Corpus) []string {
	if c == nil {
		return nil
	}
	seen := typeSet{}
	for _, d := range c.Documents {
		for _, s := range d.Sentences {
			seen.add(s.Tags)
			for _, ls := range s.Labels {
				seen.add(ls)
			}
		}
	}
	return seen.sorted()
}

// typeSet collects the entity types of tags ("B-C" and "I-C" give "C").
type typeSet map[string]bool

func (ts typeSet) add(tags []string) {
	for _, t := range tags {
		if _, typ, ok := splitTag(t); ok && typ != "" {
			ts[typ] = true
		}
	}
}

func (ts typeSet) sorted() []string {
	out := make([]string, 0, len(ts))
	for t := range ts {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Labels returns the label set of a token-classification model trained on c
// in scheme s: "O" first, then, for every entity type found in c's tags
// (Types), every prefix that s uses ("B-", "I-", … per Scheme.Prefixes),
// sorted. All prefixes are listed even when the data lack one, so that a
// model's id2label covers every tag that scheme conversion can produce.
func Labels(c *Corpus, s Scheme) []string {
	types := tagTypes(c)
	out := []string{"O"}
	var rest []string
	for _, t := range types {
		for _, p := range s.Prefixes() {
			rest = append(rest, p+"-"+t)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// tagTypes is Types restricted to Sentence.Tags.
func tagTypes(c *Corpus) []string {
	if c == nil {
		return nil
	}
	seen := typeSet{}
	for _, d := range c.Documents {
		for _, s := range d.Sentences {
			seen.add(s.Tags)
		}
	}
	return seen.sorted()
}

// Convert rewrites every sentence's tags from c.Scheme to scheme to (see
// ConvertTags) and sets c.Scheme. Sentence.Labels stay IOB2.
func (c *Corpus) Convert(to Scheme) error {
	if err := to.Validate(); err != nil {
		return err
	}
	for di := range c.Documents {
		d := &c.Documents[di]
		for si := range d.Sentences {
			tags, err := ConvertTags(d.Sentences[si].Tags, c.Scheme, to)
			if err != nil {
				return fmt.Errorf("ner: convert document %s sentence %d: %w", d.ID, si+1, err)
			}
			d.Sentences[si].Tags = tags
		}
	}
	c.Scheme = to
	return nil
}

// RepairTags repairs every sentence's tags in place with RepairTags (the
// conlleval reading of invalid sequences) and returns how many tags changed.
func (c *Corpus) RepairTags() int {
	n := 0
	for di := range c.Documents {
		d := &c.Documents[di]
		for si := range d.Sentences {
			old := d.Sentences[si].Tags
			fixed := RepairTags(old, c.Scheme)
			for i := range old {
				if old[i] != fixed[i] {
					n++
				}
			}
			d.Sentences[si].Tags = fixed
		}
	}
	return n
}

// subset returns a corpus holding the given documents and c's scheme.
func (c *Corpus) subset(docs []Document) *Corpus {
	return &Corpus{Documents: docs, Scheme: c.Scheme}
}

// joinSources joins file paths for Document.Source.
func joinSources(paths ...string) string { return strings.Join(paths, ";") }
