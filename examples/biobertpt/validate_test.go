package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/internal/safetensors/safetensorstest"
)

var nerLabels = []string{"O", "B-Condition", "I-Condition"}

func tinyNER(t *testing.T) string {
	return testutil.TinyModelDir(t, bert.HeadTokenClassification, nerLabels, func(c *bert.Config) { c.MaxPositionEmbeddings = 128 })
}

// TestNonFiniteWeightsEveryCommand: a NaN or an Inf in a weight makes every
// command that loads the model fail (exit 1) naming the tensor, instead of
// printing "[]" or "perplexity NaN" and exiting 0.
func TestNonFiniteWeightsEveryCommand(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const key = "bert.encoder.layer.0.output.dense.weight"
	tok := tinyNER(t)
	safetensorstest.Set(t, tok, key, 7, float32(math.NaN()))
	mlm := testutil.TinyModelDir(t, bert.HeadMaskedLM, nil, nil)
	safetensorstest.Set(t, mlm, "cls.predictions.bias", 0, float32(math.Inf(1)))
	base := testutil.TinyModelDir(t, bert.HeadBase, nil, nil)
	safetensorstest.Set(t, base, "embeddings.word_embeddings.weight", 0, float32(math.Inf(-1)))
	data := testutil.NERDir(t, 2)
	notes := testutil.WriteFile(t, t.TempDir(), "notes.txt", testutil.ClinicalLines()[:20]...)
	ids := testutil.WriteFile(t, t.TempDir(), "ids.json", `{"input_ids":[[2,5,6,3]]}`)
	batches := testutil.WriteFile(t, t.TempDir(), "b.json", `{"batches":[{"input_ids":[[2,5,6,3]],"labels":[[-100,1,0,-100]]}]}`)
	evalOut := filepath.Join(t.TempDir(), "eval")
	for _, tc := range []struct {
		name, stdin string
		args        []string
		key         string
	}{
		{"predict", "Paciente com dor.\n", []string{"predict", "-model", tok}, key},
		{"predict conll", "Paciente com dor.\n", []string{"predict", "-model", tok, "-format", "conll"}, key},
		{"eval-ner", "", []string{"eval-ner", "-model", tok, "-corpus", "clinpt", "-data", data, "-out", evalOut}, key},
		{"perplexity", "", []string{"perplexity", "-model", mlm, "-corpus", notes, "-block-size", "32", "-json"}, "cls.predictions.bias"},
		{"forward token-classification", "", []string{"forward", "-model", tok, "-head", "token-classification", "-input", ids}, key},
		{"forward base", "", []string{"forward", "-model", base, "-head", "base", "-input", ids}, "embeddings.word_embeddings.weight"},
		{"forward mlm", "", []string{"forward", "-model", mlm, "-head", "mlm", "-input", ids}, "cls.predictions.bias"},
		{"train-steps", "", []string{"train-steps", "-model", tok, "-batches", batches, "-steps", "1"}, key},
		{"info", "", []string{"info", "-model", tok}, key},
		{"train-ner", "", []string{"train-ner", "-corpus", "clinpt", "-data", testutil.NERDir(t, 12), "-model", tok, "-out", filepath.Join(t.TempDir(), "run"), "-epochs", "1", "-max-len", "64", "-quiet"}, key},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runNERCmd(tc.stdin, tc.args...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, "non-finite values (NaN or Inf)")
			assert.Contains(t, stderr, `"`+tc.key+`"`)
			if tc.name != "info" {
				assert.Empty(t, stdout)
			}
		})
	}
	assert.NoDirExists(t, evalOut, "eval-ner wrote nothing")
}

// TestNonFiniteOutputsEveryCommand: finite weights whose outputs overflow
// float32 fail at the first forward pass with the output named.
func TestNonFiniteOutputsEveryCommand(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	huge := func(suffix string) func(k string, v []float32) {
		return func(k string, v []float32) {
			if strings.HasSuffix(k, suffix) {
				for i := range v {
					v[i] = math.MaxFloat32 * float32(1-2*(i%2))
				}
			}
		}
	}
	tok := tinyNER(t)
	safetensorstest.Edit(t, tok, huge("classifier.weight"))
	mlm := testutil.TinyModelDir(t, bert.HeadMaskedLM, nil, nil)
	safetensorstest.Edit(t, mlm, huge("cls.predictions.bias"))
	base := testutil.TinyModelDir(t, bert.HeadBase, nil, nil)
	safetensorstest.Edit(t, base, huge("output.LayerNorm.weight"))
	data := testutil.NERDir(t, 2)
	notes := testutil.WriteFile(t, t.TempDir(), "notes.txt", testutil.ClinicalLines()[:20]...)
	ids := testutil.WriteFile(t, t.TempDir(), "ids.json", `{"input_ids":[[2,5,6,3]]}`)
	batches := testutil.WriteFile(t, t.TempDir(), "b.json", `{"batches":[{"input_ids":[[2,5,6,3]],"labels":[[-100,1,0,-100]]}]}`)
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"predict", "Paciente com dor.\n", []string{"predict", "-model", tok}, "stdin:1: ner: predict: softmax of the logits: non-finite values"},
		{"eval-ner", "", []string{"eval-ner", "-model", tok, "-corpus", "clinpt", "-data", data, "-out", t.TempDir()}, "softmax of the logits: non-finite values"},
		{"perplexity", "", []string{"perplexity", "-model", mlm, "-corpus", notes, "-block-size", "32"}, "pretrain: evaluate: batch 1: loss +Inf: non-finite values"},
		{"forward base", "", []string{"forward", "-model", base, "-head", "base", "-input", ids}, "last_hidden_state: non-finite values"},
		{"forward token-classification", "", []string{"forward", "-model", tok, "-head", "token-classification", "-input", ids}, "logits: non-finite values"},
		{"train-steps", "", []string{"train-steps", "-model", tok, "-batches", batches, "-steps", "1", "-clip", "0"}, "step 1 (batch 0): loss"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runNERCmd(tc.stdin, tc.args...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assert.Empty(t, stdout)
		})
	}
}

// TestInvalidLabelsEveryCommand: a model whose id2label holds a label that
// is not valid for its scheme is refused by every command that tags.
func TestInvalidLabelsEveryCommand(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	model := testutil.TinyModelDir(t, bert.HeadTokenClassification, []string{"O", "B-Condition", "I-Condition", "X-Y"}, func(c *bert.Config) { c.MaxPositionEmbeddings = 128 })
	data := testutil.NERDir(t, 2)
	for _, args := range [][]string{
		{"predict", "-model", model},
		{"eval-ner", "-model", model, "-corpus", "clinpt", "-data", data, "-out", t.TempDir()},
	} {
		code, stdout, stderr := runNERCmd("Paciente com dor.\n", args...)
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stderr, `ner: load tagger `+model+`: config.json id2label[3]: tag "X-Y": prefix X- is not used by IOB2`)
		assert.Empty(t, stdout)
	}
}

// TestCRLFVocabEveryCommand: a model directory whose vocab.txt was saved
// with Windows line ends (and a byte order mark) gives the same output as
// the original in every command that tokenizes.
func TestCRLFVocabEveryCommand(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lf := tinyNER(t)
	crlf := filepath.Join(t.TempDir(), "crlf")
	require.NoError(t, os.Mkdir(crlf, 0o755))
	entries, err := os.ReadDir(lf)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(lf, e.Name()))
		require.NoError(t, err)
		if e.Name() == "vocab.txt" {
			b = append([]byte("\uFEFF"), []byte(strings.ReplaceAll(string(b), "\n", "\r\n"))...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(crlf, e.Name()), b, 0o644))
	}
	text := "Paciente com dor torácica há 2 dias.\nNega febre.\n"
	for _, args := range [][]string{
		{"predict", "-model", "%s"},
		{"predict", "-model", "%s", "-format", "conll"},
		{"tokenize", "-vocab", "%s/vocab.txt"},
		{"tokenize", "-vocab", "%s"},
	} {
		run := func(dir string) (int, string, string) {
			a := make([]string, len(args))
			for i, s := range args {
				a[i] = strings.ReplaceAll(s, "%s", dir)
			}
			return runNERCmd(text, a...)
		}
		code, want, stderr := run(lf)
		require.Equal(t, 0, code, stderr)
		code, got, stderr := run(crlf)
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, want, got, "%v", args)
		if args[0] == "tokenize" {
			var line struct{ Tokens []string }
			require.NoError(t, json.Unmarshal([]byte(strings.SplitN(got, "\n", 2)[0]), &line))
			for _, tk := range line.Tokens {
				assert.NotContains(t, tk, "\r")
			}
		}
	}
}
