package pretrain

import (
	"context"
	"fmt"
	"github.com/sugarme/gotch"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPerplexityDeterministic(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, cfgPath, vocabPath, corpus := tinySetup(t, 200, 0.1)
	m, tok, err := loadModel(context.Background(), modelSource{config: cfgPath, vocab: vocabPath}, gotch.CPU, 42)
	require.NoError(t, err)
	o := DefaultPerplexityOptions()
	o.BlockSize = 32
	a, err := Perplexity(context.Background(), m, tok, []string{corpus}, o)
	require.NoError(t, err)
	b, err := Perplexity(context.Background(), m, tok, []string{corpus}, o)
	require.NoError(t, err)
	assert.Equal(t, a, b, "fixed masks, no dropout")
	assert.InDelta(t, a.Loss, math.Log(a.Perplexity), 1e-9)
	assert.Greater(t, a.Tokens, int64(0))
	assert.Greater(t, a.Blocks, 0)
	// A fresh model knows nothing: its loss is near log(V).
	assert.InDelta(t, math.Log(float64(tok.VocabSize())), a.Loss, 1.0)

	o.BatchSize = 3 // batching does not change a token-weighted mean
	c, err := Perplexity(context.Background(), m, tok, []string{corpus}, o)
	require.NoError(t, err)
	assert.InDelta(t, a.Loss, c.Loss, 1e-5)
	assert.Equal(t, a.Tokens, c.Tokens)

	o.Seed = 7 // other masks
	d, err := Perplexity(context.Background(), m, tok, []string{corpus}, o)
	require.NoError(t, err)
	assert.NotEqual(t, a.Loss, d.Loss)
}

// TestBadInputs: empty and binary corpora and a vocabulary that does not
// belong to the model give clear errors, from Train and from Perplexity.
func TestBadInputs(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 50, 0)
	empty := filepath.Join(dir, "empty.txt")
	require.NoError(t, os.WriteFile(empty, []byte("\n\n  \n"), 0o644))
	binary := filepath.Join(dir, "model.bin")
	require.NoError(t, os.WriteFile(binary, []byte("PK\x03\x04\x00\x00binary"), 0o644))
	latin1 := filepath.Join(dir, "latin1.txt")
	require.NoError(t, os.WriteFile(latin1, []byte("Paciente com dor tor\xe1cica.\n"), 0o644))
	smallVocab := filepath.Join(dir, "small-vocab.txt")
	require.NoError(t, os.WriteFile(smallVocab, []byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\npaciente\n"), 0o644))
	noMask := filepath.Join(dir, "nomask-vocab.txt")
	require.NoError(t, os.WriteFile(noMask, []byte(strings.Replace(string(demodata.Vocab()), "[MASK]\n", "[MASQ]\n", 1)), 0o644))

	for _, tc := range []struct {
		name   string
		corpus string
		vocab  string
		want   []string
	}{
		{"empty corpus", empty, vocabPath, []string{"empty corpus", empty}},
		{"binary file", binary, vocabPath, []string{binary, "NUL"}},
		{"not UTF-8", latin1, vocabPath, []string{latin1, "UTF-8"}},
		{"missing corpus", filepath.Join(dir, "nope.txt"), vocabPath, []string{"nope.txt"}},
		{"vocab size", corpus, smallVocab, []string{smallVocab, cfgPath, "6 tokens", "vocab_size 3000"}},
		{"vocab specials", corpus, noMask, []string{noMask, `"[MASK]" missing`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tinyOptions(cfgPath, tc.vocab, tc.corpus, filepath.Join(t.TempDir(), "out"))
			o.MaxSteps = 1
			_, err := Train(context.Background(), o)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}

	m, tok, err := loadModel(context.Background(), modelSource{config: cfgPath, vocab: vocabPath}, gotch.CPU, 42)
	require.NoError(t, err)
	_, err = Perplexity(context.Background(), m, tok, []string{empty}, DefaultPerplexityOptions())
	assert.ErrorIs(t, err, ErrEmptyCorpus)
	_, err = Perplexity(context.Background(), m, tok, []string{binary}, DefaultPerplexityOptions())
	assert.ErrorContains(t, err, binary)

	// a model whose vocab_size differs from the tokenizer's
	cfg := bert.TinyConfig()
	cfg.MaxPositionEmbeddings = 32
	small, err := bert.NewForMaskedLM(cfg, gotch.CPU)
	require.NoError(t, err)
	_, err = Perplexity(context.Background(), small, tok, []string{corpus}, DefaultPerplexityOptions())
	assert.ErrorContains(t, err, "vocab_size is 100")

	// a block longer than the model's positions is refused by Train
	o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(t.TempDir(), "out"))
	o.BlockSize = 128
	_, err = Train(context.Background(), o)
	assert.ErrorContains(t, err, "max_position_embeddings 64")
}

func TestPerplexityOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultPerplexityOptions().Validate())
	for i, edit := range []func(*PerplexityOptions){
		func(o *PerplexityOptions) { o.BlockSize = 2 },
		func(o *PerplexityOptions) { o.BatchSize = 0 },
		func(o *PerplexityOptions) { o.MLMProbability = 0 },
		func(o *PerplexityOptions) { o.Corpus.SplitName = "x" },
	} {
		o := DefaultPerplexityOptions()
		edit(&o)
		assert.Error(t, o.Validate(), fmt.Sprint(i))
	}
}
