package ner

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/safetensors/safetensorstest"
)

func TestCheckModelLabels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []string
		want   string // "" = valid
	}{
		{"IOB2", []string{"O", "B-Disorder", "I-Disorder"}, ""},
		{"IOBES", []string{"O", "B-X", "I-X", "E-X", "S-X"}, ""},
		{"BILOU", []string{"O", "B-X", "I-X", "L-X", "U-X"}, ""},
		{"IO", []string{"O", "I-X", "I-Y"}, ""},
		{"IOE2", []string{"O", "I-X", "E-X"}, ""},
		{"type with a dash", []string{"O", "B-X-Y", "I-X-Y"}, ""},
		{"unknown prefix", []string{"O", "B-A", "X-Y"}, `id2label[2]: tag "X-Y": prefix X- is not used by IOB2`},
		{"prefix without type", []string{"O", "B-", "I-A"}, `id2label[1] "B-": want O or <prefix>-<type>`},
		{"no prefix", []string{"O", "Disorder"}, `id2label[1] "Disorder"`},
		{"lower-case prefix", []string{"O", "b-X", "I-X"}, `id2label[1]: tag "b-X": prefix b-`},
		{"mixed schemes", []string{"O", "S-X", "U-X", "B-X"}, `id2label[1]: tag "S-X": prefix S- is not used by BILOU`},
		{"HF placeholder names", []string{"LABEL_0", "LABEL_1"}, "HF's placeholder name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkModelLabels(tc.labels)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestLoadRejectsInvalidLabels: a model whose id2label holds a label that
// is not valid for the scheme its labels are in fails Load, naming the
// label and config.json, instead of decoding it as no entity.
func TestLoadRejectsInvalidLabels(t *testing.T) {
	tok := demoTokenizer(t)
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{[]string{"O", "B-A", "I-A", "X-Y"}, `config.json id2label[3]: tag "X-Y"`},
		{[]string{"O", "B-", "I-A"}, `config.json id2label[1] "B-"`},
	} {
		dir := saveFreshModel(t, tok, tinyConfig(tok, 0), tc.labels, -1)
		_, err := Load(dir, TaggerOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "ner: load tagger "+dir+": "+tc.want)
	}
}

// TestLoadRejectsNonFiniteWeights: a NaN weight fails Load with
// bert.ErrNonFinite naming the tensor, where it used to tag every word O.
func TestLoadRejectsNonFiniteWeights(t *testing.T) {
	tok := demoTokenizer(t)
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"O", "B-A", "I-A"}, -1)
	safetensorstest.Set(t, dir, "bert.encoder.layer.0.attention.self.query.weight", 5, float32(math.NaN()))
	_, err := Load(dir, TaggerOptions{})
	require.ErrorIs(t, err, bert.ErrNonFinite)
	assert.Contains(t, err.Error(), `"bert.encoder.layer.0.attention.self.query.weight": 1 NaN, 0 Inf`)
}

// TestPredictRejectsNonFiniteLogits: finite weights whose logits overflow
// float32 give an error wrapping bert.ErrNonFinite at the first forward
// pass, from Predict, PredictSentences and Evaluate alike.
func TestPredictRejectsNonFiniteLogits(t *testing.T) {
	tok := demoTokenizer(t)
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"O", "B-A", "I-A"}, -1)
	safetensorstest.Edit(t, dir, func(k string, v []float32) {
		if k == "classifier.weight" {
			for i := range v {
				v[i] = math.MaxFloat32 * float32(1-2*(i%2)) // ±max: the sums overflow
			}
		}
	})
	tg, err := Load(dir, TaggerOptions{})
	require.NoError(t, err)
	defer tg.Close()
	_, err = tg.Predict("Paciente com dor torácica.")
	require.ErrorIs(t, err, bert.ErrNonFinite)
	assert.Contains(t, err.Error(), "ner: predict: softmax of the logits: non-finite values")
	_, err = tg.PredictSentences([][]string{{"dor", "torácica"}})
	require.ErrorIs(t, err, bert.ErrNonFinite)
	c := &Corpus{Documents: []Document{{ID: "d", Sentences: []Sentence{{Words: []string{"dor"}, Tags: []string{"B-A"}}}}}}
	_, err = tg.Evaluate(c)
	require.ErrorIs(t, err, bert.ErrNonFinite)
}

// TestTrainRejectsInvalidCorpusTags: a tag not valid in the corpus' scheme
// in any split fails Train before anything is written, naming the split,
// the document, its file, the sentence and the word.
func TestTrainRejectsInvalidCorpusTags(t *testing.T) {
	tok := demoTokenizer(t)
	mk := func(tag string) *Corpus {
		return &Corpus{Documents: []Document{{ID: "doc7", Source: "notes/doc7.tsv", Sentences: []Sentence{
			{Words: []string{"dor", "no", "tórax"}, Tags: []string{"B-C", "O", tag}},
		}}}}
	}
	model := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"O", "B-C", "I-C"}, -1)
	for _, tc := range []struct {
		name  string
		split Split
		want  string
	}{
		{"train", Split{Train: mk("X-Y"), Dev: mk("O")}, `train split: document doc7 (notes/doc7.tsv) sentence 1 word 3: tag "X-Y": prefix X- is not used by IOB2`},
		{"dev", Split{Train: mk("O"), Dev: mk("B-")}, `dev split: document doc7 (notes/doc7.tsv) sentence 1 word 3: malformed tag "B-"`},
		{"test", Split{Train: mk("O"), Dev: mk("O"), Test: mk("S-C")}, `test split: document doc7 (notes/doc7.tsv) sentence 1 word 3: tag "S-C"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			o := fastOptions(out)
			_, err := Train(context.Background(), model, tok, tc.split, o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "ner: train: "), err.Error())
		})
	}
}
