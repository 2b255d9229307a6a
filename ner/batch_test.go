package ner

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/tokenize"
)

const ign = tokenize.IgnoreLabel

// testTokenizer returns a tiny WordPiece tokenizer: "dor" and "febre" are
// one token, "torácica" is "tor ##ác ##ica", "hipertensão" is
// "hiper ##tens ##ão", anything else is [UNK].
func testTokenizer(t *testing.T) *tokenize.Tokenizer {
	t.Helper()
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
		"dor", "febre", "tor", "##ác", "##ica", "hiper", "##tens", "##ão", ".", "com", "e", "a",
		"##a"}
	tok, err := tokenize.New(vocab, tokenize.DefaultOptions(), "test")
	require.NoError(t, err)
	return tok
}

func TestTrainOptionsValidate(t *testing.T) {
	ok := DefaultTrainOptions()
	ok.OutDir = "out"
	require.NoError(t, ok.Validate())
	for _, tc := range []struct {
		field string
		edit  func(o *TrainOptions)
	}{
		{"MaxLen", func(o *TrainOptions) { o.MaxLen = 2 }},
		{"Stride", func(o *TrainOptions) { o.Stride = 254 }},
		{"Stride", func(o *TrainOptions) { o.Stride = -1 }},
		{"BatchSize", func(o *TrainOptions) { o.BatchSize = 0 }},
		{"EvalBatchSize", func(o *TrainOptions) { o.EvalBatchSize = 0 }},
		{"GradAccum", func(o *TrainOptions) { o.GradAccum = 0 }},
		{"LR", func(o *TrainOptions) { o.LR = 0 }},
		{"Epochs", func(o *TrainOptions) { o.Epochs = 0 }},
		{"WeightDecay", func(o *TrainOptions) { o.WeightDecay = -0.1 }},
		{"WarmupRatio", func(o *TrainOptions) { o.WarmupRatio = 1.5 }},
		{"MaxGradNorm", func(o *TrainOptions) { o.MaxGradNorm = -1 }},
		{"EarlyStopping", func(o *TrainOptions) { o.EarlyStopping = -1 }},
		{"SaveTotalLimit", func(o *TrainOptions) { o.SaveTotalLimit = -1 }},
		{"SaveEpochModels", func(o *TrainOptions) { o.SaveEpochModels = -1 }},
		{"MaxSteps", func(o *TrainOptions) { o.MaxSteps = -1 }},
		{"OutDir", func(o *TrainOptions) { o.OutDir = " " }},
		{"Scheme", func(o *TrainOptions) { o.Scheme = Scheme(99) }},
		{"ClassWeights[O]", func(o *TrainOptions) { o.ClassWeights = map[string]float64{"O": -1} }},
		{"Device", func(o *TrainOptions) { o.Device = "gpu" }},
		{"Device", func(o *TrainOptions) { o.Device = "cuda:x" }},
	} {
		o := ok
		tc.edit(&o)
		err := o.Validate()
		require.Error(t, err, tc.field)
		assert.Contains(t, err.Error(), tc.field)
	}
	for _, d := range []string{"cpu", "CUDA", "cuda:1", ""} {
		o := ok
		o.Device = d
		assert.NoError(t, o.Validate(), d)
	}
}

func TestLabelSet(t *testing.T) {
	ls, err := newLabelSet([]string{"O", "B-C", "I-C"})
	require.NoError(t, err)
	ids, err := ls.ids([]string{"B-C", "I-C", "O"})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 0}, ids)
	_, err = ls.ids([]string{"O", "B-X"})
	assert.ErrorContains(t, err, `word 2: tag "B-X"`)
	_, err = newLabelSet([]string{"O", "O"})
	assert.Error(t, err)
	_, err = newLabelSet(nil)
	assert.Error(t, err)
}

func TestBuildExamplesAlignsLabels(t *testing.T) {
	tok := testTokenizer(t)
	words := []string{"dor", "torácica", "e", "hipertensão"}
	// labels: O B-C I-C B-C → ids 0 1 2 1
	labels := []int{0, 1, 2, 1}
	for _, tc := range []struct {
		name     string
		labelAll bool
		want     []int
	}{
		// [CLS] dor tor ##ác ##ica e hiper ##tens ##ão [SEP]
		{"first sub-token", false, []int{ign, 0, 1, ign, ign, 2, 1, ign, ign, ign}},
		{"label all", true, []int{ign, 0, 1, 1, 1, 2, 1, 1, 1, ign}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exs, sws, err := buildExamples(tok, [][]string{words}, [][]int{labels}, 32, 4, tc.labelAll)
			require.NoError(t, err)
			require.Len(t, exs, 1)
			require.Len(t, sws, 1)
			assert.Equal(t, []int{2, 5, 7, 8, 9, 15, 10, 11, 12, 3}, exs[0].ids)
			assert.Equal(t, tc.want, exs[0].labels)
		})
	}
	_, _, err := buildExamples(tok, [][]string{words}, [][]int{{0}}, 32, 4, false)
	assert.ErrorContains(t, err, "4 words but 1 labels")
}

func TestBuildExamplesWindows(t *testing.T) {
	tok := testTokenizer(t)
	// 6 words, 12 sub-tokens: windows of at most 6 content tokens.
	words := []string{"dor", "torácica", "e", "hipertensão", "febre", "torácica"}
	labels := []int{1, 2, 0, 3, 4, 5}
	exs, sws, err := buildExamples(tok, [][]string{words}, [][]int{labels}, 8, 3, false)
	require.NoError(t, err)
	require.Greater(t, len(exs), 1)
	// Every word's first sub-token carries its label in at least one window,
	// no window is longer than 8, and labels only sit on first sub-tokens.
	seen := map[int]bool{}
	for _, e := range exs {
		assert.LessOrEqual(t, len(e.ids), 8)
		win := sws[0].windows[e.win]
		for i, l := range e.labels {
			if l == ign {
				continue
			}
			w := win.Encoding.WordIDs[i]
			assert.Equal(t, labels[w], l)
			assert.True(t, i == 1 || win.Encoding.WordIDs[i-1] != w, "label on a later sub-token")
			seen[w] = true
		}
	}
	assert.Len(t, seen, len(words))
}

func TestContinuedWordIsNotRelabelled(t *testing.T) {
	tok := testTokenizer(t)
	// "hipertensão" has 3 sub-tokens; with maxLen 4 (2 content tokens) it is
	// cut, and its third sub-token opens the next window.
	words := []string{"hipertensão", "dor"}
	exs, sws, err := buildExamples(tok, [][]string{words}, [][]int{{1, 0}}, 4, 0, false)
	require.NoError(t, err)
	require.Len(t, exs, 2)
	assert.Equal(t, []bool{false, true}, continued(sws[0].windows))
	assert.Equal(t, []int{ign, 1, ign, ign}, exs[0].labels)
	assert.Equal(t, []int{ign, ign, 0, ign}, exs[1].labels)
}

func TestMakeBatchPads(t *testing.T) {
	exs := []example{
		{ids: []int{2, 5, 3}, types: []int{0, 0, 0}, labels: []int{ign, 1, ign}},
		{ids: []int{2, 5, 6, 7, 3}, types: []int{0, 0, 0, 0, 0}, labels: []int{ign, 0, 2, ign, ign}},
	}
	b := makeBatch(exs, []int{0, 1}, 0)
	assert.Equal(t, 2, b.b)
	assert.Equal(t, 5, b.t)
	assert.Equal(t, []int64{2, 5, 3, 0, 0, 2, 5, 6, 7, 3}, b.ids)
	assert.Equal(t, []int64{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, b.mask)
	assert.Equal(t, []int64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, b.types)
	assert.Equal(t, []int64{ign, 1, ign, ign, ign, ign, 0, 2, ign, ign}, b.labels)
	assert.Equal(t, 8, b.realToks)
	assert.Equal(t, 3, b.labelToks)
	// Without labels the batch has none.
	b = makeBatch([]example{{ids: []int{2, 3}, types: []int{0, 0}}}, []int{0}, 0)
	assert.Nil(t, b.labels)
}

// TestWindowReassembly checks that, for many window sizes and strides, a
// "model" that predicts each token's word index gives back every word's own
// index after reassembly: every word is predicted from a window holding its
// first sub-token, and no word is lost.
func TestWindowReassembly(t *testing.T) {
	tok := testTokenizer(t)
	pool := []string{"dor", "torácica", "e", "hipertensão", "febre", ".", "com", "xyz", "\u200b", "a"}
	var words []string
	for i := 0; i < 57; i++ {
		words = append(words, pool[(i*7+i/3)%len(pool)])
	}
	for maxLen := 4; maxLen <= 40; maxLen += 3 {
		for _, stride := range []int{0, 1, 2, (maxLen - 2) / 2, maxLen - 3} {
			if stride >= maxLen-2 {
				continue
			}
			t.Run(fmt.Sprintf("len%d-stride%d", maxLen, stride), func(t *testing.T) {
				exs, sws, err := buildExamples(tok, [][]string{words}, nil, maxLen, stride, false)
				require.NoError(t, err)
				preds := make([][]tokenPrediction, len(sws[0].windows))
				for _, e := range exs {
					win := sws[0].windows[e.win]
					p := make([]tokenPrediction, len(e.ids))
					for i, w := range win.Encoding.WordIDs {
						// the first sub-token of a word predicts the word id,
						// later sub-tokens something else.
						c := -2
						if w >= 0 && (i == 0 || win.Encoding.WordIDs[i-1] != w) {
							c = w
						}
						p[i] = tokenPrediction{class: c, prob: 1}
					}
					preds[e.win] = p
				}
				got := wordPredictions(sws[0], preds)
				require.Len(t, got, len(words))
				for w, p := range got {
					if words[w] == "\u200b" { // no sub-token
						assert.Equal(t, -1, p.class, "word %d", w)
						continue
					}
					assert.Equal(t, w, p.class, "word %d %q", w, words[w])
				}
			})
		}
	}
}

func TestEpochOrderDeterministic(t *testing.T) {
	a, b := epochOrder(50, 42, 3), epochOrder(50, 42, 3)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, epochOrder(50, 42, 4))
	assert.NotEqual(t, a, epochOrder(50, 43, 3))
	assert.ElementsMatch(t, a, epochOrder(50, 7, 0))
	assert.Equal(t, [][]int{{0, 1}, {2, 3}, {4}}, chunk([]int{0, 1, 2, 3, 4}, 2))
}

func TestEvalBatchesSortByLength(t *testing.T) {
	exs := []example{{ids: make([]int, 5)}, {ids: make([]int, 3)}, {ids: make([]int, 9)}, {ids: make([]int, 3)}}
	assert.Equal(t, [][]int{{1, 3, 0}, {2}}, evalBatches(exs, 3))
}

func TestClassWeights(t *testing.T) {
	labels := []string{"O", "B-C", "I-C"}
	w, err := classWeights(labels, []int{80, 15, 5}, nil, false)
	require.NoError(t, err)
	assert.Nil(t, w)
	w, err = classWeights(labels, []int{80, 15, 5}, map[string]float64{"B-C": 2}, false)
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 1}, w)
	w, err = classWeights(labels, []int{80, 15, 5}, nil, true)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{100.0 / 240, 100.0 / 45, 100.0 / 15}, w, 1e-12)
	w, err = classWeights(labels, []int{80, 20, 0}, map[string]float64{"O": 0.5}, true)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{0.5 * 100.0 / 240, 100.0 / 60, 1}, w, 1e-12)
	_, err = classWeights(labels, []int{1, 1, 1}, map[string]float64{"B-X": 2}, false)
	assert.ErrorContains(t, err, `"B-X"`)
}
