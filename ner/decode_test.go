package ner

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// schemeLabels returns O and every prefix of s for types X and Y.
func schemeLabels(s Scheme) []string {
	out := []string{"O"}
	for _, t := range []string{"X", "Y"} {
		for _, p := range s.Prefixes() {
			out = append(out, p+"-"+t)
		}
	}
	return out
}

// forEachSequence calls f with every sequence of n label indices.
func forEachSequence(n, L int, f func([]int)) {
	seq := make([]int, n)
	var rec func(i int)
	rec = func(i int) {
		if i == n {
			f(seq)
			return
		}
		for l := range L {
			seq[i] = l
			rec(i + 1)
		}
	}
	rec(0)
}

func satisfies(seq []int, tr transitions) bool {
	if !tr.start[seq[0]] || !tr.end[seq[len(seq)-1]] {
		return false
	}
	for i := 1; i < len(seq); i++ {
		if !tr.next[seq[i-1]][seq[i]] {
			return false
		}
	}
	return true
}

// The constraints accept exactly the sequences RepairTags leaves unchanged.
func TestSchemeTransitionsEqualRepairTags(t *testing.T) {
	for _, s := range []Scheme{IOB2, IOB1, IO, IOE1, IOE2, IOBES, BILOU} {
		labels := schemeLabels(s)
		tr := schemeTransitions(labels, s)
		for n := 1; n <= 3; n++ {
			forEachSequence(n, len(labels), func(seq []int) {
				tags := make([]string, n)
				for i, l := range seq {
					tags[i] = labels[l]
				}
				valid := slices.Equal(RepairTags(tags, s), tags)
				require.Equal(t, valid, satisfies(seq, tr), "%v %v", s, tags)
			})
		}
	}
}

// Viterbi finds the best valid sequence found by enumeration.
func TestViterbiEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	for _, s := range []Scheme{IOB2, IOBES, BILOU, IOE2} {
		labels := schemeLabels(s)
		tr := schemeTransitions(labels, s)
		for trial := range 30 {
			n := 1 + trial%4
			scores := make([][]float64, n)
			for i := range scores {
				scores[i] = make([]float64, len(labels))
				for l := range scores[i] {
					scores[i][l] = math.Log(rng.Float64())
				}
			}
			best, want := math.Inf(-1), []int(nil)
			forEachSequence(n, len(labels), func(seq []int) {
				if !satisfies(seq, tr) {
					return
				}
				sum := 0.0
				for i, l := range seq {
					sum += scores[i][l]
				}
				if sum > best {
					best, want = sum, slices.Clone(seq)
				}
			})
			assert.Equal(t, want, viterbi(scores, tr, nil), "%v trial %d", s, trial)
		}
	}
}

// "I-X" after "O" is the argmax; Viterbi picks the best valid sequence.
func TestViterbiRepairsIOB2(t *testing.T) {
	labels := []string{"O", "B-X", "I-X"}
	lp := func(p ...float64) []float64 {
		for i := range p {
			p[i] = math.Log(p[i])
		}
		return p
	}
	scores := [][]float64{lp(0.6, 0.3, 0.1), lp(0.2, 0.3, 0.5), lp(0.8, 0.1, 0.1)}
	got := viterbi(scores, schemeTransitions(labels, IOB2), nil)
	assert.Equal(t, []int{0, 1, 0}, got) // O B-X O: 0.6·0.3·0.8 beats B-X I-X O: 0.3·0.5·0.8
	assert.Equal(t, []int{0, 2, 0}, []int{argmax(scores[0]), argmax(scores[1]), argmax(scores[2])})
}

func TestViterbiWordsWordWithoutPieces(t *testing.T) {
	labels := []string{"O", "B-X", "I-X"}
	l := func(p ...float32) []float32 {
		for i := range p {
			p[i] = float32(math.Log(float64(p[i])))
		}
		return p
	}
	wp := []tokenPrediction{{class: 1, logp: l(0.1, 0.8, 0.1)}, {class: -1}, {class: 2, logp: l(0.1, 0.15, 0.75)}}
	viterbiWords(wp, schemeTransitions(labels, IOB2), 0, nil)
	assert.Equal(t, []int{1, 0, 1}, []int{wp[0].class, wp[1].class, wp[2].class})
	assert.InDelta(t, 1, wp[1].prob, 0)
	assert.InDelta(t, 0.15, wp[2].prob, 1e-6)
}

func TestParseDecode(t *testing.T) {
	for _, d := range []Decode{DecodeViterbi, DecodeArgmax} {
		got, err := ParseDecode(d.String())
		require.NoError(t, err)
		assert.Equal(t, d, got)
		b, err := d.MarshalText()
		require.NoError(t, err)
		var u Decode
		require.NoError(t, u.UnmarshalText(b))
		assert.Equal(t, d, u)
	}
	_, err := ParseDecode("beam")
	assert.ErrorContains(t, err, `"beam"`)
	assert.Error(t, Decode(5).Validate())
}
