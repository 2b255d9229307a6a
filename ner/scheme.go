package ner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/metrics"
)

// Scheme is a tagging scheme: how a tag's prefix marks an entity's position.
// It is metrics.Scheme, so corpora, training and scoring share one type.
type Scheme = metrics.Scheme

// The tagging schemes; see metrics.Scheme.
const (
	IOB2  = metrics.IOB2
	IOB1  = metrics.IOB1
	IO    = metrics.IO
	IOE1  = metrics.IOE1
	IOE2  = metrics.IOE2
	IOBES = metrics.IOBES
	BILOU = metrics.BILOU
)

// ParseScheme reads a scheme name (metrics.ParseScheme).
func ParseScheme(name string) (Scheme, error) { return metrics.ParseScheme(name) }

// Span is one entity in a tag sequence: words [Start, End) of Type.
// End is exclusive, as in Go slices (seqeval's is inclusive).
type Span struct {
	Type       string
	Start, End int
}

func (s Span) String() string { return fmt.Sprintf("%s[%d:%d]", s.Type, s.Start, s.End) }

// splitTag splits "B-X" into ("B", "X"); "O" gives ("O", ""). ok is false
// for anything else (no one-letter prefix and dash, or an empty type).
func splitTag(t string) (prefix, typ string, ok bool) {
	if t == "O" {
		return "O", "", true
	}
	if len(t) < 3 || t[1] != '-' {
		return "", "", false
	}
	return t[:1], t[2:], true
}

// checkTag returns an error unless t is "O" or a prefix of s, a dash and a
// non-empty type.
func checkTag(t string, s Scheme) error {
	p, _, ok := splitTag(t)
	if !ok {
		return fmt.Errorf("malformed tag %q (want O or <prefix>-<type>)", t)
	}
	if p == "O" {
		return nil
	}
	for _, q := range s.Prefixes() {
		if p == q {
			return nil
		}
	}
	return fmt.Errorf("tag %q: prefix %s- is not used by %v (prefixes %s)", t, p, s, strings.Join(s.Prefixes(), ", "))
}

// readSpans is the lenient (conlleval) reading shared by every scheme: a word
// opens a new entity when its prefix is B, S or U, when no entity is open, or
// when the open entity has another type; I, E and L continue an open entity
// of their type; E, L, S and U close the entity after their word; O closes
// it before. Tags whose prefix is not one of B, I, E, S, L, U count as O.
func readSpans(tags []string) []Span {
	var out []Span
	open := false
	for i, t := range tags {
		p, typ, ok := splitTag(t)
		if !ok || p == "O" || !strings.Contains("BIESLU", p) {
			open = false
			continue
		}
		if p == "B" || p == "S" || p == "U" || !open || out[len(out)-1].Type != typ {
			out = append(out, Span{Type: typ, Start: i, End: i + 1})
		} else {
			out[len(out)-1].End = i + 1
		}
		open = !(p == "E" || p == "L" || p == "S" || p == "U")
	}
	return out
}

// Spans returns the entities of a tag sequence in scheme s, read as
// conlleval reads it (see RepairTags). It fails on a tag that is not "O" or
// a prefix of s with a type.
func Spans(tags []string, s Scheme) ([]Span, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	for i, t := range tags {
		if err := checkTag(t, s); err != nil {
			return nil, fmt.Errorf("ner: word %d: %w", i+1, err)
		}
	}
	return readSpans(tags), nil
}

// EncodeSpans writes n tags in scheme s for the given entities, which must
// lie inside [0, n), be non-empty and not overlap (in any order).
func EncodeSpans(spans []Span, n int, s Scheme) ([]string, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	sp := append([]Span(nil), spans...)
	sort.Slice(sp, func(i, j int) bool { return sp[i].Start < sp[j].Start })
	tags := make([]string, n)
	for i := range tags {
		tags[i] = "O"
	}
	for k, e := range sp {
		if e.Start < 0 || e.End > n || e.Start >= e.End || e.Type == "" {
			return nil, fmt.Errorf("ner: span %v invalid for %d words", e, n)
		}
		if k > 0 && sp[k-1].End > e.Start {
			return nil, fmt.Errorf("ner: spans %v and %v overlap", sp[k-1], e)
		}
		// Neighbours of the same type touching this span decide IOB1 and IOE1.
		afterSame := k > 0 && sp[k-1].End == e.Start && sp[k-1].Type == e.Type
		beforeSame := k+1 < len(sp) && sp[k+1].Start == e.End && sp[k+1].Type == e.Type
		for i := e.Start; i < e.End; i++ {
			first, last := i == e.Start, i == e.End-1
			p := "I"
			switch s {
			case IOB2:
				if first {
					p = "B"
				}
			case IOB1:
				if first && afterSame {
					p = "B"
				}
			case IOE2:
				if last {
					p = "E"
				}
			case IOE1:
				if last && beforeSame {
					p = "E"
				}
			case IOBES, BILOU:
				single, begin, end := "S", "B", "E"
				if s == BILOU {
					single, end = "U", "L"
				}
				switch {
				case first && last:
					p = single
				case first:
					p = begin
				case last:
					p = end
				}
			}
			tags[i] = p + "-" + e.Type
		}
	}
	return tags, nil
}

// ConvertTags rewrites a tag sequence from scheme from to scheme to: it
// reads the entities as Spans(tags, from) does and writes them with
// EncodeSpans. Converting to IO merges adjacent entities of one type (IO
// cannot separate them). It fails on a tag that from does not allow.
func ConvertTags(tags []string, from, to Scheme) ([]string, error) {
	spans, err := Spans(tags, from)
	if err != nil {
		return nil, err
	}
	return EncodeSpans(spans, len(tags), to)
}

// RepairTags returns tags rewritten into a valid sequence of scheme s, the
// way conlleval reads invalid ones: a word starts a new entity when its
// prefix is B (or S, U), when no entity is open, or when the open entity has
// another type; so in IOB2 "O I-X" becomes "O B-X" and "B-X I-Y" becomes
// "B-X B-Y"; in IOBES "B-X O" becomes "S-X O". Entity boundaries read this
// way are then written in s. Malformed tags (no "P-" prefix or an unknown
// prefix letter) become "O". Valid sequences come back unchanged. The input
// is not modified.
func RepairTags(tags []string, s Scheme) []string {
	out, err := EncodeSpans(readSpans(tags), len(tags), s)
	if err != nil {
		// readSpans never yields overlapping or empty spans, so only an
		// unknown scheme gets here: leave the tags as they are.
		return append([]string(nil), tags...)
	}
	return out
}

// countInvalid returns how many tags RepairTags would change.
func countInvalid(tags []string, s Scheme) int {
	fixed := RepairTags(tags, s)
	n := 0
	for i := range tags {
		if tags[i] != fixed[i] {
			n++
		}
	}
	return n
}
