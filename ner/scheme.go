package ner

import (
	"fmt"
	"sort"
	"strings"
)

// Scheme is a tagging scheme: how a tag's prefix marks an entity's position.
// The zero value is IOB2, the paper's scheme.
type Scheme int

const (
	// IOB2 (BIO): B- on every entity's first word, I- on the rest.
	IOB2 Scheme = iota
	// IOB1: I- on every entity word; B- only on the first word of an entity
	// that directly follows an entity of the same type (CoNLL-2003 original).
	IOB1
	// IO: I- on every entity word; adjacent entities of one type merge.
	IO
	// IOE1: I- on every entity word; E- only on the last word of an entity
	// directly followed by an entity of the same type.
	IOE1
	// IOE2: E- on every entity's last word, I- on the rest.
	IOE2
	// IOBES: S- for single-word entities, else B-, I-…, E-.
	IOBES
	// BILOU: U- for single-word entities, else B-, I-…, L- (IOBES renamed).
	BILOU
)

var schemeNames = [...]string{IOB2: "IOB2", IOB1: "IOB1", IO: "IO", IOE1: "IOE1", IOE2: "IOE2", IOBES: "IOBES", BILOU: "BILOU"}

var schemePrefixes = [...][]string{
	IOB2:  {"B", "I"},
	IOB1:  {"B", "I"},
	IO:    {"I"},
	IOE1:  {"E", "I"},
	IOE2:  {"E", "I"},
	IOBES: {"B", "E", "I", "S"},
	BILOU: {"B", "I", "L", "U"},
}

// String returns the scheme's name ("IOB2", …).
func (s Scheme) String() string {
	if s < 0 || int(s) >= len(schemeNames) {
		return fmt.Sprintf("Scheme(%d)", int(s))
	}
	return schemeNames[s]
}

// Validate reports whether s is one of the defined schemes.
func (s Scheme) Validate() error {
	if s < 0 || int(s) >= len(schemeNames) {
		return fmt.Errorf("ner: unknown scheme %d", int(s))
	}
	return nil
}

// Prefixes returns the sorted tag prefixes the scheme uses besides "O".
func (s Scheme) Prefixes() []string {
	if s.Validate() != nil {
		return nil
	}
	return append([]string(nil), schemePrefixes[s]...)
}

// MarshalText writes the scheme's name, so that options and configs hold
// "IOB2" rather than a number.
func (s Scheme) MarshalText() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a scheme name with ParseScheme.
func (s *Scheme) UnmarshalText(b []byte) error {
	v, err := ParseScheme(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseScheme reads a scheme name, case-insensitively: IOB2 (also "BIO"),
// IOB1, IO, IOE1, IOE2, IOBES (also "BIOES"), BILOU.
func ParseScheme(name string) (Scheme, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "IOB2", "BIO":
		return IOB2, nil
	case "IOB1":
		return IOB1, nil
	case "IO":
		return IO, nil
	case "IOE1":
		return IOE1, nil
	case "IOE2":
		return IOE2, nil
	case "IOBES", "BIOES":
		return IOBES, nil
	case "BILOU":
		return BILOU, nil
	}
	return 0, fmt.Errorf("ner: unknown scheme %q (want IOB2, IOB1, IO, IOE1, IOE2, IOBES or BILOU)", name)
}

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
