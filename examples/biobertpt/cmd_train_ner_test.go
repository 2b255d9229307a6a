package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/ner"
)

// runNERCmd runs one command line with stdin and returns its exit status
// and outputs.
func runNERCmd(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(&env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

// nerTinyModel writes a freshly initialised tiny token-classification
// model (labels LABEL_0, LABEL_1; 128 positions) with the demo vocabulary.
func nerTinyModel(t *testing.T, dropout float64) string {
	t.Helper()
	return testutil.TinyModelDir(t, bert.HeadTokenClassification, []string{"LABEL_0", "LABEL_1"}, func(c *bert.Config) {
		c.MaxPositionEmbeddings = 128
		c.HiddenDropoutProb, c.AttentionProbsDropoutProb = dropout, dropout
	})
}

// TestTrainPredictEvalNER runs train-ner for one short epoch, then predict
// and eval-ner on its model: the three commands fit together.
func TestTrainPredictEvalNER(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	data := testutil.NERDir(t, 12)
	model := nerTinyModel(t, 0.1)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runNERCmd("", "train-ner", "-corpus", "clinpt", "-data", data, "-model", model, "-out", out,
		"-epochs", "1", "-batch", "8", "-lr", "5e-3", "-max-len", "64", "-stride", "16")
	require.Equal(t, 0, code, stderr)
	best := filepath.Join(out, ner.BestDirName)
	assert.Contains(t, stdout, "best model: "+best)
	assert.Contains(t, stdout, "micro avg")
	assert.Contains(t, stderr, "tok/s")
	for _, f := range []string{"best/config.json", "best/model.safetensors", "best/vocab.txt", "latest",
		ner.MetricsFileName, ner.TestReportName, ner.TestConllevalName, ner.TestPredName, "train.txt", "dev.txt", "test.txt"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	ckpts, err := filepath.Glob(filepath.Join(out, "checkpoint-*", "trainer_state.json"))
	require.NoError(t, err)
	assert.Len(t, ckpts, 1, "one epoch: one checkpoint-<step>/")

	text := "Paciente com dor torácica há 2 dias.\n\nNega febre; refere tosse."
	code, stdout, stderr = runNERCmd(text, "predict", "-model", best)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 3)
	for i, l := range lines {
		var ents []ner.Entity
		require.NoError(t, json.Unmarshal([]byte(l), &ents), l)
		runes := []rune(strings.Split(text, "\n")[i])
		for _, e := range ents {
			assert.Equal(t, e.Text, string(runes[e.Start:e.End]))
		}
	}
	assert.Equal(t, "[]", lines[1])

	code, stdout, stderr = runNERCmd("Nega febre.\n", "predict", "-model", best, "-format", "conll")
	require.Equal(t, 0, code, stderr)
	rows := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	require.Len(t, rows, 3)
	assert.True(t, strings.HasPrefix(rows[0], "Nega\t"), rows[0])
	assert.True(t, strings.HasPrefix(rows[2], ".\t"), rows[2])

	evalOut := filepath.Join(t.TempDir(), "eval")
	code, stdout, stderr = runNERCmd("", "eval-ner", "-model", best, "-corpus", "clinpt", "-data", data, "-out", evalOut, "-max-len", "64")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "micro avg")
	for _, f := range []string{"predictions.txt", "conlleval.txt", "report.txt", "report.json"} {
		assert.FileExists(t, filepath.Join(evalOut, f))
	}
	ce, err := os.ReadFile(filepath.Join(evalOut, "conlleval.txt"))
	require.NoError(t, err)
	assert.Contains(t, string(ce), "accuracy:")
}

func TestNERCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"train-ner without flags", []string{"train-ner"}, "usage"},
		{"train-ner bad split", []string{"train-ner", "-corpus", "clinpt", "-data", "x", "-model", "m", "-out", "o", "-split", "0.6"}, "-split"},
		{"train-ner bad scheme", []string{"train-ner", "-corpus", "clinpt", "-data", "x", "-model", "m", "-out", "o", "-scheme", "xyz"}, "scheme"},
		{"train-ner bad max-len", []string{"train-ner", "-corpus", "clinpt", "-data", "x", "-model", "m", "-out", "o", "-max-len", "20"}, "Stride"},
		{"train-ner bad precision", []string{"train-ner", "-corpus", "clinpt", "-data", "x", "-model", "m", "-out", "o", "-precision", "fp8"}, "-precision"},
		{"train-ner bad max-memory", []string{"train-ner", "-corpus", "clinpt", "-data", "x", "-model", "m", "-out", "o", "-max-memory", "-2"}, "-max-memory -2: want >= 0"},
		{"train-ner bad log-steps", []string{"train-ner", "-corpus", "clinpt", "-data", "x", "-model", "m", "-out", "o", "-log-steps", "-1"}, "-log-steps -1: want >= 0"},
		{"predict without model", []string{"predict"}, "usage"},
		{"predict bad format", []string{"predict", "-model", "m", "-format", "xml"}, "-format"},
		{"eval-ner without flags", []string{"eval-ner"}, "usage"},
		{"train-steps without flags", []string{"train-steps"}, "usage"},
		{"train-steps bad head", []string{"train-steps", "-model", "m", "-batches", "b", "-steps", "1", "-head", "qa"}, "-head"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runNERCmd("", tc.args...)
			assert.Equal(t, 2, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

// TestTrainNERFP16NeedsCUDA: -precision fp16 on the CPU fails before
// training with the reason and the alternatives.
func TestTrainNERFP16NeedsCUDA(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	data := testutil.NERDir(t, 4)
	model := nerTinyModel(t, 0)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runNERCmd("", "train-ner", "-corpus", "clinpt", "-data", data, "-model", model, "-out", out,
		"-max-len", "64", "-stride", "16", "-precision", "fp16", "-quiet")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "fp16 needs a CUDA device; use bf16 or fp32 on the CPU")
}
