package ner

import (
	"fmt"
	"math"
)

// Decode is how a tagger reads word tags from the model's label scores.
// The zero value is DecodeViterbi.
type Decode int

const (
	// DecodeViterbi picks the tag sequence with the highest summed log
	// probability among those the labels' scheme allows (constrained
	// Viterbi): never "I-X" after "O" in IOB2, never "B-X O" in IOBES.
	DecodeViterbi Decode = iota
	// DecodeArgmax picks each word's most probable label on its own; the
	// sequence may be invalid in the scheme (entities are then read the
	// way conlleval reads them).
	DecodeArgmax
)

var decodeNames = [...]string{DecodeViterbi: "viterbi", DecodeArgmax: "argmax"}

// String returns "viterbi" or "argmax".
func (d Decode) String() string {
	if d < 0 || int(d) >= len(decodeNames) {
		return fmt.Sprintf("Decode(%d)", int(d))
	}
	return decodeNames[d]
}

// Validate reports whether d is a defined decoding.
func (d Decode) Validate() error {
	if d < 0 || int(d) >= len(decodeNames) {
		return fmt.Errorf("ner: unknown decoding %d: want viterbi or argmax", int(d))
	}
	return nil
}

// ParseDecode returns the decoding called name: "viterbi" or "argmax".
func ParseDecode(name string) (Decode, error) {
	for i, n := range decodeNames {
		if n == name {
			return Decode(i), nil
		}
	}
	return 0, fmt.Errorf("ner: decoding %q: want viterbi or argmax", name)
}

// MarshalText writes the decoding's name.
func (d Decode) MarshalText() ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads a decoding's name.
func (d *Decode) UnmarshalText(b []byte) error {
	v, err := ParseDecode(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// transitions are the first-order constraints of a scheme over a label
// set: which labels may start and end a sentence and which may follow
// which. Every valid tag sequence of the scheme (RepairTags leaves it as it
// is) is exactly a sequence that satisfies them.
type transitions struct {
	start, end []bool
	next       [][]bool // next[a][b]: label b may follow label a
}

// schemeTransitions returns the constraints of s over labels ("O" or
// "<prefix>-<type>" with s's prefixes).
func schemeTransitions(labels []string, s Scheme) transitions {
	type tag struct{ p, t string }
	tags := make([]tag, len(labels))
	for i, l := range labels {
		if p, t, ok := splitTag(l); ok {
			tags[i] = tag{p, t}
		} else {
			tags[i] = tag{"O", ""}
		}
	}
	n := len(labels)
	tr := transitions{start: make([]bool, n), end: make([]bool, n), next: make([][]bool, n)}
	in := func(p string, set ...string) bool {
		for _, x := range set {
			if p == x {
				return true
			}
		}
		return false
	}
	for i, a := range tags {
		tr.next[i] = make([]bool, n)
		switch s {
		case IOB2:
			tr.start[i], tr.end[i] = a.p != "I", true
		case IOB1:
			tr.start[i], tr.end[i] = a.p != "B", true
		case IOE2:
			tr.start[i], tr.end[i] = true, a.p != "I"
		case IOE1:
			tr.start[i], tr.end[i] = true, a.p != "E"
		case IOBES, BILOU:
			tr.start[i] = in(a.p, "O", "B", "S", "U")
			tr.end[i] = in(a.p, "O", "E", "S", "L", "U")
		default: // IO
			tr.start[i], tr.end[i] = true, true
		}
		for j, b := range tags {
			same := a.t == b.t
			var ok bool
			switch s {
			case IOB2:
				ok = b.p != "I" || in(a.p, "B", "I") && same
			case IOB1:
				ok = b.p != "B" || in(a.p, "B", "I") && same
			case IOE2:
				ok = a.p != "I" || in(b.p, "I", "E") && same
			case IOE1:
				ok = a.p != "E" || in(b.p, "I", "E") && same
			case IOBES, BILOU:
				if in(a.p, "B", "I") {
					ok = in(b.p, "I", "E", "L") && same
				} else {
					ok = in(b.p, "O", "B", "S", "U")
				}
			default:
				ok = true
			}
			tr.next[i][j] = ok
		}
	}
	return tr
}

// viterbi returns the label sequence with the highest sum of scores
// (scores[i][l]: log probability of label l at word i), plus, with a CRF
// (w not nil), its start, transition and end scores, among those that
// satisfy tr. When no sequence does (a label set without "O" can make every
// path invalid), it returns each word's best label.
func viterbi(scores [][]float64, tr transitions, w *crfWeights) []int {
	n := len(scores)
	if n == 0 {
		return nil
	}
	L := len(scores[0])
	negInf := math.Inf(-1)
	delta := make([]float64, L)
	back := make([][]int, n)
	for l := range L {
		delta[l] = negInf
		if tr.start[l] {
			delta[l] = scores[0][l]
			if w != nil {
				delta[l] += w.start[l]
			}
		}
	}
	nd := make([]float64, L)
	for i := 1; i < n; i++ {
		back[i] = make([]int, L)
		for b := range L {
			best, arg := negInf, -1
			for a := range L {
				d := delta[a]
				if w != nil {
					d += w.trans[a][b]
				}
				if tr.next[a][b] && d > best {
					best, arg = d, a
				}
			}
			nd[b], back[i][b] = best+scores[i][b], arg
			if arg < 0 {
				nd[b] = negInf
			}
		}
		delta, nd = nd, delta
	}
	best, arg := negInf, -1
	for l := range L {
		d := delta[l]
		if w != nil {
			d += w.end[l]
		}
		if tr.end[l] && d > best {
			best, arg = d, l
		}
	}
	out := make([]int, n)
	if arg < 0 {
		for i, row := range scores {
			out[i] = argmax(row)
		}
		return out
	}
	for i := n - 1; i >= 0; i-- {
		out[i] = arg
		if i > 0 {
			arg = back[i][arg]
		}
	}
	return out
}

// argmax returns the index of the largest value (the first on ties).
func argmax(xs []float64) int {
	k := 0
	for i, x := range xs {
		if x > xs[k] {
			k = i
		}
	}
	return k
}
