package ner

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SemClinBrGroups returns the 13 entity groups of SemClinBr that BioBERTpt
// evaluates (Schneider et al. 2020; HAILab-PUCPR/BioBERTpt README: 100 UMLS
// semantic types summarized in 13 groups). The labels a corpus actually
// uses are whatever its tag attributes say (see Types); this list is for
// reference and reports.
func SemClinBrGroups() []string {
	return []string{
		"Disorders", "Chemicals and Drugs", "Medical Procedure", "Diagnostic Procedure",
		"Disease Or Syndrome", "Findings", "Health Care Activity", "Laboratory or Test Result",
		"Medical Device", "Pharmacologic Substance", "Quantitative Concept", "Sign or Symptom",
		"Therapeutic or Preventive Procedure",
	}
}

// SemClinBrOptions configures ReadSemClinBr.
type SemClinBrOptions struct {
	// Lenient turns format errors into Corpus.Warnings: an annotation
	// with bad offsets, a missing attribute or a text mismatch is left out,
	// an empty document is skipped.
	Lenient bool
}

// Validate checks the options (every combination is valid).
func (o SemClinBrOptions) Validate() error { return nil }

// ReadSemClinBr reads SemClinBr notes: path is a directory (every .xml file
// below it) or one file, each
//
//	<ANNOTATIONS><TEXT>…</TEXT><TAGS>
//	  <annotation id="1" start="10" end="25" text="…" tag="Disorders|Procedures"/>
//	</TAGS></ANNOTATIONS>
//
// start and end are character (rune) offsets into TEXT, end exclusive, and
// text must equal TEXT[start:end] (whitespace compared as spaces, since
// XML turns newlines in attributes into spaces; note that XML parsing also
// turns "\r\n" in TEXT into "\n"). tag holds one or more labels joined by
// "|". Words and sentences come from package tokenize, and annotations
// become tags as docs/NER.md describes (Sentence.Labels
// keeps every label, Sentence.Tags one per word).
func ReadSemClinBr(path string, o SemClinBrOptions) (*Corpus, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return readStandoff(path, ".xml", o.Lenient, readSemClinBrFile)
}

func readSemClinBrFile(path string, p *problems, rep *Report) (d *Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, fmt.Errorf("ner: read %s: %v", path, r)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ner: read %w", err)
	}
	defer f.Close()
	text, raw, err := parseSemClinBrXML(f, path)
	if err != nil {
		return nil, err
	}
	runes := []rune(text)
	var anns []*annotation
	for _, r := range raw {
		rep.Annotations++
		a, err := r.annotation(path, runes)
		if err != nil {
			if ferr := p.fail(err); ferr != nil {
				return nil, ferr
			}
			continue
		}
		anns = append(anns, a)
	}
	sents := buildStandoff(text, anns, p, rep)
	if len(sents) == 0 {
		if err := p.fail(fmt.Errorf("ner: read %s: empty document (no words in TEXT)", path)); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return &Document{Source: path, Text: text, Sentences: sents}, nil
}

// semAnnotation is an <annotation> element as read.
type semAnnotation struct {
	line  int
	attrs map[string]string
}

// annotation validates a SemClinBr annotation against the text.
func (s semAnnotation) annotation(path string, runes []rune) (*annotation, error) {
	where := fmt.Sprintf("%s:%d", path, s.line)
	id := s.attrs["id"]
	for _, k := range []string{"start", "end", "tag"} {
		if _, ok := s.attrs[k]; !ok {
			return nil, fmt.Errorf("ner: read %s: annotation id=%q: missing attribute %q", where, id, k)
		}
	}
	start, err1 := strconv.Atoi(strings.TrimSpace(s.attrs["start"]))
	end, err2 := strconv.Atoi(strings.TrimSpace(s.attrs["end"]))
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("ner: read %s: annotation id=%q: bad offsets start=%q end=%q", where, id, s.attrs["start"], s.attrs["end"])
	}
	frags := [][2]int{{start, end}}
	if err := checkOffsets(frags, len(runes)); err != nil {
		return nil, fmt.Errorf("ner: read %s: annotation id=%q: %w", where, id, err)
	}
	if want, ok := s.attrs["text"]; ok {
		if got := runeSlice(runes, start, end); got != want && !sameModuloSpace(got, want) {
			return nil, fmt.Errorf("ner: read %s: annotation id=%q at offset %d-%d: text %q does not match TEXT[%d:%d] = %q", where, id, start, end, want, start, end, got)
		}
	}
	var labels []string
	seen := map[string]bool{}
	for _, l := range strings.Split(s.attrs["tag"], "|") {
		l = strings.TrimSpace(l)
		if l == "" {
			return nil, fmt.Errorf("ner: read %s: annotation id=%q: empty label in tag %q", where, id, s.attrs["tag"])
		}
		if !seen[l] {
			seen[l] = true
			labels = append(labels, l)
		}
	}
	return &annotation{id: id, where: where, labels: labels, frags: frags}, nil
}

// parseSemClinBrXML returns the TEXT content and the annotation elements
// with their line numbers.
func parseSemClinBrXML(r io.Reader, path string) (string, []semAnnotation, error) {
	dec := xml.NewDecoder(r)
	var (
		text    strings.Builder
		inText  bool
		hasText bool
		root    bool
		anns    []semAnnotation
	)
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, fmt.Errorf("ner: read %s: %w", path, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case !root:
				if t.Name.Local != "ANNOTATIONS" {
					return "", nil, fmt.Errorf("ner: read %s:%d: root element <%s>, want <ANNOTATIONS>", path, line, t.Name.Local)
				}
				root = true
			case t.Name.Local == "TEXT":
				if hasText {
					return "", nil, fmt.Errorf("ner: read %s:%d: second <TEXT>", path, line)
				}
				inText, hasText = true, true
			case t.Name.Local == "annotation":
				a := semAnnotation{line: line, attrs: map[string]string{}}
				for _, at := range t.Attr {
					a.attrs[at.Name.Local] = at.Value
				}
				anns = append(anns, a)
			}
		case xml.EndElement:
			if t.Name.Local == "TEXT" {
				inText = false
			}
		case xml.CharData:
			if inText {
				text.Write(t)
			}
		}
	}
	if !hasText {
		return "", nil, fmt.Errorf("ner: read %s: missing <TEXT>", path)
	}
	if !utf8.ValidString(text.String()) {
		return "", nil, fmt.Errorf("ner: read %s: TEXT is not valid UTF-8", path)
	}
	return text.String(), anns, nil
}

// GroupCorpus returns the binary corpus of one label, the per-group setup
// of the paper (one model per SemClinBr group): the same documents and
// words, with IOB2 Tags holding only that label's entities from
// Sentence.Labels (all of them, overlaps with other labels included) and
// Labels nil. Sentences without Labels keep the entities of that type from
// their Tags. Words, Starts and Ends are shared with c.
func GroupCorpus(c *Corpus, group string) *Corpus {
	out := &Corpus{Scheme: IOB2}
	if c == nil {
		return out
	}
	for _, d := range c.Documents {
		nd := d
		nd.Sentences = make([]Sentence, len(d.Sentences))
		for si, s := range d.Sentences {
			ns := Sentence{Words: s.Words, Starts: s.Starts, Ends: s.Ends}
			if s.Labels != nil {
				ns.Tags = labelTags(s.Labels, group)
			} else {
				var keep []Span
				for _, e := range readSpans(s.Tags) {
					if e.Type == group {
						keep = append(keep, e)
					}
				}
				ns.Tags, _ = EncodeSpans(keep, len(s.Words), IOB2)
			}
			nd.Sentences[si] = ns
		}
		out.Documents = append(out.Documents, nd)
	}
	return out
}

// MergeGroupTags merges the IOB2 predictions of per-group binary models
// into per-word label sets in the form of Sentence.Labels: tags[g] is the
// tag sequence predicted for groups[g] (its entity type is ignored and
// replaced by groups[g]); the result holds, per word, the "B-"/"I-" tags of
// every group predicting an entity there, sorted by group name. Sequences
// are read the conlleval way (see RepairTags). All sequences must have the
// same length.
func MergeGroupTags(groups []string, tags [][]string) ([][]string, error) {
	if len(groups) != len(tags) {
		return nil, fmt.Errorf("ner: merge: %d groups but %d tag sequences", len(groups), len(tags))
	}
	if len(tags) == 0 {
		return nil, nil
	}
	n := len(tags[0])
	out := make([][]string, n)
	type gt struct {
		g string
		t []string
	}
	byName := make([]gt, len(groups))
	for i := range groups {
		if len(tags[i]) != n {
			return nil, fmt.Errorf("ner: merge: group %s has %d tags, want %d", groups[i], len(tags[i]), n)
		}
		byName[i] = gt{groups[i], tags[i]}
	}
	// Sort by group so each word's set is sorted.
	sort.SliceStable(byName, func(i, j int) bool { return byName[i].g < byName[j].g })
	for _, x := range byName {
		relabeled := make([]string, n)
		for i, t := range x.t {
			relabeled[i] = "O"
			if p, _, ok := splitTag(t); ok && p != "O" {
				// Any type: the binary model's output belongs to group x.g.
				relabeled[i] = p + "-" + x.g
			}
		}
		for _, e := range readSpans(relabeled) {
			for i := e.Start; i < e.End; i++ {
				p := "I-"
				if i == e.Start {
					p = "B-"
				}
				out[i] = append(out[i], p+x.g)
			}
		}
	}
	return out, nil
}
