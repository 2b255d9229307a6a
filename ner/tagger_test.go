package ner

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// demoTokenizer returns the demo corpus' WordPiece tokenizer.
func demoTokenizer(t *testing.T) *tokenize.Tokenizer {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vocab.txt")
	require.NoError(t, os.WriteFile(path, demodata.Vocab(), 0o644))
	tok, err := tokenize.LoadVocabFile(path, tokenize.DefaultOptions())
	require.NoError(t, err)
	return tok
}

// tinyConfig is a small BERT for CPU tests over tok's vocabulary.
func tinyConfig(tok *tokenize.Tokenizer, dropout float64) *bert.Config {
	c := bert.TinyConfig()
	c.VocabSize = tok.VocabSize()
	c.HiddenSize = 64
	c.NumAttentionHeads = 4
	c.IntermediateSize = 128
	c.MaxPositionEmbeddings = 128
	c.HiddenDropoutProb = dropout
	c.AttentionProbsDropoutProb = dropout
	return c
}

// saveFreshModel writes a freshly initialised token-classification model
// and the tokenizer to a new directory. With favour >= 0 the classifier
// predicts labels[favour] for every token, with probability p.
func saveFreshModel(t *testing.T, tok *tokenize.Tokenizer, cfg *bert.Config, labels []string, favour int) string {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	require.NoError(t, cfg.SetLabels(labels))
	torchutil.ManualSeed(1)
	m, err := bert.NewForTokenClassification(cfg, gotch.CPU)
	require.NoError(t, err)
	if favour >= 0 {
		require.NoError(t, torchutil.NoGrad(func() error {
			for _, p := range m.Parameters() {
				switch p.Name {
				case "classifier.weight":
					if err := p.Tensor.Zero_(); err != nil {
						return err
					}
				case "classifier.bias":
					if err := p.Tensor.Zero_(); err != nil {
						return err
					}
					v, err := p.Tensor.Narrow(0, int64(favour), 1, false)
					if err != nil {
						return err
					}
					s := ts.FloatScalar(3)
					defer s.MustDrop()
					if err := v.Fill_(s); err != nil {
						return err
					}
					v.MustDrop()
				}
			}
			return nil
		}))
	}
	dir := t.TempDir()
	require.NoError(t, m.Save(dir))
	require.NoError(t, tok.Save(dir))
	return dir
}

func TestTaggerCharOffsetsOnAccentedText(t *testing.T) {
	tok := demoTokenizer(t)
	labels := []string{"O", "B-C", "I-C"}
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0.1), labels, 1) // every word B-C
	tg, err := Load(dir, TaggerOptions{MaxLen: 16})
	require.NoError(t, err)
	defer tg.Close()
	assert.Equal(t, labels, tg.Labels())
	assert.Equal(t, IOB2, tg.Scheme())

	text := "Paciente  com dor torácica há 2 dias; nega açúcar ↑.\nEvolução: melhora clínica após ceftriaxona endovenosa."
	ents, err := tg.Predict(text)
	require.NoError(t, err)
	runes := []rune(text)
	var want []string
	for _, s := range splitText(text, tokenize.SplitterBERT) {
		for _, w := range s.words {
			want = append(want, w.Text)
		}
	}
	require.Len(t, ents, len(want), "one entity per word")
	// p = e^3 / (e^3 + 2): the softmax of logits (3, 0, 0) at label 1.
	p := 20.085536923187668 / (20.085536923187668 + 2)
	for i, e := range ents {
		assert.Equal(t, "C", e.Type)
		assert.Equal(t, want[i], e.Text)
		assert.Equal(t, e.Text, string(runes[e.Start:e.End]), "entity %d", i)
		assert.InDelta(t, p, e.Score, 1e-5)
	}
	assert.Equal(t, "torácica", ents[3].Text)
	assert.Equal(t, 18, ents[3].Start)
	assert.Equal(t, 26, ents[3].End)

	// Pre-split words, long enough to be windowed at MaxLen 16.
	var words []string
	for i := 0; i < 40; i++ {
		words = append(words, "hipertensão", "arterial", ",")
	}
	tags, err := tg.PredictWords(words)
	require.NoError(t, err)
	require.Len(t, tags, len(words))
	for _, tag := range tags {
		assert.Equal(t, "B-C", tag)
	}
	got, err := tg.PredictSentences([][]string{{"dor"}, {}, {"febre", "alta"}})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"B-C"}, {}, {"B-C", "B-C"}}, got)
}

func TestTaggerConcurrentPredict(t *testing.T) {
	tok := demoTokenizer(t)
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0.1), []string{"O", "B-C", "I-C", "B-T", "I-T"}, -1)
	tg, err := Load(dir, TaggerOptions{BatchSize: 4, MaxLen: 24})
	require.NoError(t, err)
	defer tg.Close()
	texts := []string{
		"Paciente com dor torácica há 2 dias.",
		"Nega febre. Refere tosse produtiva e dispneia aos esforços.",
		"Solicitado hemograma completo e radiografia de tórax.",
		"Evolui com melhora clínica, sem intercorrências.",
		demodata.SampleSentence(),
	}
	want := make([][]Entity, len(texts))
	for i, s := range texts {
		want[i], err = tg.Predict(s)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 10; k++ {
				i := (g + k) % len(texts)
				got, err := tg.Predict(texts[i])
				if err != nil {
					errs <- err
					return
				}
				if len(got) != len(want[i]) {
					errs <- fmt.Errorf("text %d: %d entities, want %d", i, len(got), len(want[i]))
					return
				}
				for j := range got {
					if got[j].Type != want[i][j].Type || got[j].Start != want[i][j].Start || got[j].End != want[i][j].End {
						errs <- fmt.Errorf("text %d entity %d: %v, want %v", i, j, got[j], want[i][j])
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.NoError(t, tg.Close())
	_, err = tg.Predict("dor")
	assert.ErrorContains(t, err, "closed")
}

func TestLoadTaggerErrors(t *testing.T) {
	_, err := Load(t.TempDir(), TaggerOptions{})
	assert.Error(t, err)
	tok := demoTokenizer(t)
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0.1), []string{"O", "B-C", "I-C"}, -1)
	_, err = Load(dir, TaggerOptions{MaxLen: 1000})
	assert.ErrorContains(t, err, "max_position_embeddings")
	_, err = Load(dir, TaggerOptions{Device: "gpu"})
	assert.ErrorContains(t, err, "Device")
	_, err = Load(dir, TaggerOptions{MaxLen: 16, Stride: 20})
	assert.ErrorContains(t, err, "Stride")
}
