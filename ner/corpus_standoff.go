package ner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/tokenize"
)

// annotation is one standoff entity annotation (SemClinBr or BRAT).
type annotation struct {
	id     string   // annotation id ("T3", "12")
	where  string   // file:line for messages
	labels []string // one or more labels, first = the one for flat tags
	frags  [][2]int // rune offsets [start, end), sorted, at least one
	// computed by buildStandoff:
	ws, we int // covered words [ws, we) (global word indices)
}

func (a *annotation) start() int { return a.frags[0][0] }
func (a *annotation) end() int   { return a.frags[len(a.frags)-1][1] }

// buildStandoff turns a text and its annotations into sentences with
// Words, Starts, Ends, Tags (IOB2, one label per word) and Labels (every
// label, IOB2 per label), following the rules in the package
// documentation, and counts what it had to adapt in rep.
func buildStandoff(text string, anns []*annotation, p *problems, rep *Report) []Sentence {
	words := tokenize.SplitWords(text)
	if len(words) == 0 {
		return nil
	}
	sentOf := sentenceOfWords(text, words)
	usable := placeAnnotations(words, sentOf, anns, p, rep)
	countNested(usable, rep)
	// Outermost first: by first word, then longest, then file order.
	order := append([]*annotation(nil), usable...)
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].ws != order[j].ws {
			return order[i].ws < order[j].ws
		}
		return order[i].we-order[i].ws > order[j].we-order[j].ws
	})
	tags := flatTags(len(words), sentOf, order, rep)
	labels := standoffLabels(len(words), sentOf, order, p, rep)

	var out []Sentence
	for i, w := range words {
		if i == 0 || sentOf[i] != sentOf[i-1] {
			out = append(out, Sentence{Labels: [][]string{}})
		}
		s := &out[len(out)-1]
		s.Words = append(s.Words, w.Text)
		s.Tags = append(s.Tags, tags[i])
		s.Labels = append(s.Labels, labels[i])
		s.Starts = append(s.Starts, w.Start)
		s.Ends = append(s.Ends, w.End)
	}
	return out
}

// sentenceOfWords returns the sentence of each word: the sentence span
// holding the word's start.
func sentenceOfWords(text string, words []tokenize.Word) []int {
	bounds := sentenceBounds(text)
	sentOf := make([]int, len(words))
	si := 0
	for i, w := range words {
		for si+1 < len(bounds) && w.Start >= bounds[si][1] {
			si++
		}
		sentOf[i] = si
	}
	return sentOf
}

// placeAnnotations sets the words each annotation covers (every word
// overlapping its extent [first fragment start, last fragment end)),
// reports the ones that cannot be represented exactly, and returns those
// covering at least one word.
func placeAnnotations(words []tokenize.Word, sentOf []int, anns []*annotation, p *problems, rep *Report) []*annotation {
	var usable []*annotation
	for _, a := range anns {
		s, e := a.start(), a.end()
		a.ws = sort.Search(len(words), func(i int) bool { return words[i].End > s })
		a.we = sort.Search(len(words), func(i int) bool { return words[i].Start >= e })
		if a.ws >= a.we {
			rep.NoWord++
			p.warn("ner: %s: annotation %s [%d,%d) covers no word: not representable, left out", a.where, a.id, s, e)
			continue
		}
		if len(a.frags) > 1 {
			rep.Discontinuous++
			p.warn("ner: %s: annotation %s has %d fragments: tagged as one entity from %d to %d", a.where, a.id, len(a.frags), s, e)
		}
		if words[a.ws].Start < s || words[a.we-1].End > e {
			rep.PartialWord++
			p.warn("ner: %s: annotation %s [%d,%d) starts or ends inside a word: whole words %q…%q tagged", a.where, a.id, s, e, words[a.ws].Text, words[a.we-1].Text)
		}
		if sentOf[a.ws] != sentOf[a.we-1] {
			rep.CrossSentence++
			p.warn("ner: %s: annotation %s [%d,%d) crosses a sentence boundary: one entity per sentence", a.where, a.id, s, e)
		}
		if len(a.labels) > 1 {
			rep.MultiLabel++
		}
		usable = append(usable, a)
	}
	return usable
}

// countNested counts the annotations whose extent lies strictly inside
// another's.
func countNested(usable []*annotation, rep *Report) {
	for _, a := range usable {
		for _, b := range usable {
			if a != b && b.start() <= a.start() && a.end() <= b.end() && (b.start() != a.start() || b.end() != a.end()) {
				rep.Nested++
				break
			}
		}
	}
}

// markIOB2 tags word i of annotation a with label in dst: B- on its first
// word and on the first word of each sentence it reaches, I- elsewhere.
func markIOB2(dst []string, sentOf []int, a *annotation, label string, i int) {
	if i == a.ws || sentOf[i] != sentOf[i-1] {
		dst[i] = "B-" + label
	} else {
		dst[i] = "I-" + label
	}
}

// flatTags returns the flat tags: annotations in order are kept greedily
// when all their words are still free.
func flatTags(n int, sentOf []int, order []*annotation, rep *Report) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = "O"
	}
	taken := make([]bool, n)
	for _, a := range order {
		free := true
		for i := a.ws; i < a.we; i++ {
			free = free && !taken[i]
		}
		if !free {
			rep.Overlapping++
			continue
		}
		for i := a.ws; i < a.we; i++ {
			taken[i] = true
			markIOB2(tags, sentOf, a, a.labels[0], i)
		}
	}
	return tags
}

// standoffLabels returns each word's multi-label tags: the greedy choice of
// flatTags made per label, the labels of a word sorted by name.
func standoffLabels(n int, sentOf []int, order []*annotation, p *problems, rep *Report) [][]string {
	perLabel := map[string][]string{}
	for _, a := range order {
		for _, l := range a.labels {
			lt := perLabel[l]
			if lt == nil {
				lt = make([]string, n)
				perLabel[l] = lt
			}
			free := true
			for i := a.ws; i < a.we; i++ {
				free = free && lt[i] == ""
			}
			if !free {
				rep.SameLabelOverlap++
				p.warn("ner: %s: annotation %s overlaps an earlier %s annotation: left out of label %s", a.where, a.id, l, l)
				continue
			}
			for i := a.ws; i < a.we; i++ {
				markIOB2(lt, sentOf, a, l, i)
			}
		}
	}
	names := make([]string, 0, len(perLabel))
	for l := range perLabel {
		names = append(names, l)
	}
	sort.Strings(names)
	labels := make([][]string, n)
	for _, l := range names {
		for i, t := range perLabel[l] {
			if t != "" {
				labels[i] = append(labels[i], t)
			}
		}
	}
	return labels
}

// runeSlice returns the runes [s, e) of text (given as runes).
func runeSlice(runes []rune, s, e int) string { return string(runes[s:e]) }

// sameModuloSpace reports whether a and b are equal once every whitespace
// rune is read as a space (XML attribute values turn newlines and tabs
// into spaces).
func sameModuloSpace(a, b string) bool {
	norm := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == '\t' {
				return ' '
			}
			return r
		}, s)
	}
	return norm(a) == norm(b)
}

// checkOffsets validates an annotation's fragments against a text of n
// runes.
func checkOffsets(frags [][2]int, n int) error {
	for i, f := range frags {
		if f[0] < 0 || f[1] > n || f[0] >= f[1] {
			return fmt.Errorf("offsets %d-%d outside the text (%d characters) or empty", f[0], f[1], n)
		}
		if i > 0 && frags[i-1][1] > f[0] {
			return fmt.Errorf("fragments %d-%d and %d-%d overlap or are out of order", frags[i-1][0], frags[i-1][1], f[0], f[1])
		}
	}
	return nil
}
