package pretrain

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomExamples returns n examples of [CLS] random non-special ids [SEP],
// of random lengths up to maxLen.
func randomExamples(enc *fakeEncoder, n, maxLen int, seed uint64) [][]int32 {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([][]int32, n)
	for i := range out {
		l := 3 + r.IntN(maxLen-2)
		ex := []int32{int32(enc.CLS())}
		for len(ex) < l-1 {
			ex = append(ex, int32(5+r.IntN(enc.VocabSize()-5)))
		}
		out[i] = append(ex, int32(enc.SEP()))
	}
	return out
}

func TestMaskStatistics(t *testing.T) {
	enc := newFakeEncoder()
	m, err := NewMasker(enc, DefaultMaskOptions())
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	var maskable, selected, toMask, toRandom, kept int
	for it := 0; it < 100; it++ {
		ex := randomExamples(enc, 8, 128, uint64(it))
		b, err := m.Mask(ex, 128, rng)
		require.NoError(t, err)
		require.Equal(t, 8, b.Batch)
		require.Equal(t, 128, b.SeqLen)
		for i, e := range ex {
			for tt := 0; tt < b.SeqLen; tt++ {
				k := i*b.SeqLen + tt
				if tt >= len(e) {
					require.Equal(t, int64(enc.PAD()), b.InputIDs[k])
					require.Equal(t, int64(0), b.AttentionMask[k])
					require.Equal(t, int64(IgnoreIndex), b.Labels[k])
					continue
				}
				require.Equal(t, int64(1), b.AttentionMask[k])
				require.Equal(t, int64(0), b.TokenTypeIDs[k])
				if m.special[e[tt]] {
					require.Equal(t, int64(IgnoreIndex), b.Labels[k], "special token selected")
					require.Equal(t, int64(e[tt]), b.InputIDs[k])
					continue
				}
				maskable++
				if b.Labels[k] == IgnoreIndex {
					require.Equal(t, int64(e[tt]), b.InputIDs[k], "unselected token changed")
					continue
				}
				selected++
				require.Equal(t, int64(e[tt]), b.Labels[k])
				switch b.InputIDs[k] {
				case int64(enc.MASK()):
					toMask++
				case int64(e[tt]):
					kept++
				default:
					toRandom++
				}
			}
		}
		var want []int64
		for k, l := range b.Labels {
			if l != IgnoreIndex {
				want = append(want, int64(k))
			}
		}
		require.Equal(t, want, b.MaskedPositions)
	}
	require.Greater(t, maskable, 40000)
	p := float64(selected) / float64(maskable)
	// Binomial standard deviations: sqrt(p(1-p)/n) ≈ 0.0017 for p; the tolerances are > 4σ.
	assert.InDelta(t, 0.15, p, 0.008, "selected share")
	s := float64(selected)
	// A random replacement draws the original id with probability 1/V.
	v := float64(enc.VocabSize())
	assert.InDelta(t, 0.8, float64(toMask)/s, 0.02, "[MASK] share")
	assert.InDelta(t, 0.1*(1-1/v), float64(toRandom)/s, 0.015, "random share")
	assert.InDelta(t, 0.1+0.1/v, float64(kept)/s, 0.015, "kept share")
}

func TestMaskRandomIDsUniformOverVocab(t *testing.T) {
	enc := newFakeEncoder()
	m, err := NewMasker(enc, MaskOptions{Probability: 1, RandomShare: 1})
	require.NoError(t, err)
	ex := [][]int32{make([]int32, 2000)}
	for i := range ex[0] {
		ex[0][i] = 5
	}
	counts := make([]int, enc.VocabSize())
	rng := rand.New(rand.NewPCG(3, 4))
	for it := 0; it < 50; it++ {
		b, err := m.Mask(ex, 0, rng)
		require.NoError(t, err)
		for _, id := range b.InputIDs {
			counts[id]++
		}
	}
	// Specials are drawn too, as HF draws from len(tokenizer).
	assert.Positive(t, counts[enc.CLS()])
	// Chi-square against uniform, V-1 degrees of freedom (mean 314, sd ≈ 25).
	exp := 100000.0 / float64(len(counts))
	chi := 0.0
	for _, c := range counts {
		chi += (float64(c) - exp) * (float64(c) - exp) / exp
	}
	assert.Less(t, chi, float64(len(counts))+6*math.Sqrt(2*float64(len(counts))))
}

func TestWholeWordMask(t *testing.T) {
	enc := newFakeEncoder()
	opts := DefaultMaskOptions()
	opts.WholeWord = true
	m, err := NewMasker(enc, opts)
	require.NoError(t, err)
	text := randomText(11, 400, 0)
	rng := rand.New(rand.NewPCG(5, 6))
	var selectedTotal, lenTotal int
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		ids, _ := enc.EncodeIDs(line)
		ex := append(append([]int32{int32(enc.CLS())}, ids...), int32(enc.SEP()))
		b, err := m.Mask([][]int32{ex}, 0, rng)
		require.NoError(t, err)
		// Words: a start piece and the "##" pieces after it.
		sel := 0
		for tt := 1; tt < len(ex)-1; {
			end := tt + 1
			for end < len(ex)-1 && strings.HasPrefix(enc.Token(int(ex[end])), "##") {
				end++
			}
			first := b.Labels[tt] != IgnoreIndex
			for k := tt; k < end; k++ {
				require.Equal(t, first, b.Labels[k] != IgnoreIndex, "word %v split by the mask in %q", ex[tt:end], line)
				if first {
					sel++
				}
			}
			tt = end
		}
		assert.Equal(t, int64(IgnoreIndex), b.Labels[0])
		assert.Equal(t, int64(IgnoreIndex), b.Labels[len(ex)-1])
		want := max(1, int(math.RoundToEven(0.15*float64(len(ex)))))
		assert.LessOrEqual(t, sel, want)
		selectedTotal += sel
		lenTotal += len(ex)
	}
	// Words that would overshoot are skipped, so a little under 15% overall.
	assert.InDelta(t, 0.15, float64(selectedTotal)/float64(lenTotal), 0.03)
}

func TestWholeWordMaskContinuationAfterSpecial(t *testing.T) {
	enc := newFakeEncoder()
	m, err := NewMasker(enc, MaskOptions{Probability: 1, MaskShare: 1, WholeWord: true})
	require.NoError(t, err)
	abc, cont := int32(enc.ids["abc"]), int32(enc.ids["##abc"])
	// A "##" piece right after [SEP][CLS] starts a word of its own.
	ex := []int32{2, abc, cont, 3, 2, cont, 3}
	b, err := m.Mask([][]int32{ex}, 0, rand.New(rand.NewPCG(1, 1)))
	require.NoError(t, err)
	assert.Equal(t, []int64{-100, int64(abc), int64(cont), -100, -100, int64(cont), -100}, b.Labels)
}

func TestMaskReproducible(t *testing.T) {
	enc := newFakeEncoder()
	for _, ww := range []bool{false, true} {
		opts := DefaultMaskOptions()
		opts.WholeWord = ww
		m, err := NewMasker(enc, opts)
		require.NoError(t, err)
		ex := randomExamples(enc, 4, 64, 9)
		b1, err := m.Mask(ex, 64, rand.New(rand.NewPCG(42, 7)))
		require.NoError(t, err)
		b2, err := m.Mask(ex, 64, rand.New(rand.NewPCG(42, 7)))
		require.NoError(t, err)
		b3, err := m.Mask(ex, 64, rand.New(rand.NewPCG(43, 7)))
		require.NoError(t, err)
		assert.Equal(t, b1, b2)
		assert.NotEqual(t, b1.Labels, b3.Labels)
	}
}

func TestMaskErrors(t *testing.T) {
	enc := newFakeEncoder()
	m, err := NewMasker(enc, DefaultMaskOptions())
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 1))
	_, err = m.Mask(nil, 0, rng)
	assert.Error(t, err)
	_, err = m.Mask([][]int32{{2, 3}}, 0, nil)
	assert.Error(t, err)
	_, err = m.Mask([][]int32{{2, 7, 7, 3}}, 3, rng)
	assert.ErrorContains(t, err, "longer than seqLen 3")
	_, err = m.Mask([][]int32{{2, 99999, 3}}, 0, rng)
	assert.ErrorContains(t, err, "outside")

	for _, bad := range []MaskOptions{
		{Probability: 0, MaskShare: 0.8, RandomShare: 0.1},
		{Probability: 1.5},
		{Probability: 0.15, MaskShare: 0.95, RandomShare: 0.1},
		{Probability: 0.15, MaskShare: -0.1},
		{Probability: math.NaN()},
	} {
		_, err := NewMasker(enc, bad)
		assert.Error(t, err, "%+v", bad)
	}
	_, err = NewMasker(nil, DefaultMaskOptions())
	assert.Error(t, err)
}
