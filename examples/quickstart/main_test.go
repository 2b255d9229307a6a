package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
)

// tinyArgs is a configuration that runs in seconds on a CPU.
func tinyArgs(out string) []string {
	return []string{"-out", out, "-pretrain-steps", "3", "-epochs", "1",
		"-hidden", "32", "-layers", "1", "-heads", "2", "-intermediate", "64", "-max-len", "48"}
}

func TestRunTiny(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if testing.Short() {
		t.Skip("trains a tiny model (~20 s)")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(tinyArgs(out), &stdout, &stderr), stderr.String())
	s := stdout.String()

	// The four steps, in order.
	idx := -1
	for _, step := range []string{"[1/4] data", "[2/4] small BERT: hidden 32, 1 layers", "[3/4] NER fine-tuning", "[4/4] tagging"} {
		i := bytes.Index(stdout.Bytes(), []byte(step))
		require.Greater(t, i, idx, "step %q missing or out of order", step)
		idx = i
	}
	// Perplexity before and after pretraining, before near the vocabulary size.
	m := regexp.MustCompile(`perplexity before pretraining: ([0-9.]+)`).FindStringSubmatch(s)
	require.NotNil(t, m, s)
	before, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	assert.InDelta(t, 3000, before, 1500, "a fresh model is near-uniform over the 3,000-token vocabulary")
	assert.Regexp(t, `perplexity after 3 steps: [0-9.]+ \(was `, s)
	// The per-type report of the test split.
	for _, typ := range []string{"micro avg", "macro avg", "weighted avg", "precision"} {
		assert.Contains(t, s, typ)
	}
	assert.Regexp(t, `test micro F1 [01]\.[0-9]{4}`, s)
	assert.Contains(t, s, demodata.SampleSentence())
	// Progress bars go to stderr.
	assert.Contains(t, stderr.String(), "tok/s")
	assert.NotContains(t, s, "tok/s")

	// The output directory holds the data, the pretrained and the NER model.
	for _, f := range []string{
		"data/train.txt", "data/eval.txt", "data/clinpt/doc01.tsv",
		"init/config.json", "init/vocab.txt", "pretrain/final/model.safetensors",
		"ner/best/config.json", "ner/best/vocab.txt", "ner/test_report.json", "ner/test_predictions.txt",
	} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	var rep struct {
		Overall struct{ F1 float64 } `json:"overall"`
		PerType map[string]any       `json:"per_type"`
	}
	b, err := os.ReadFile(filepath.Join(out, "ner", "test_report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.Contains(t, s, "test micro F1 "+strconv.FormatFloat(rep.Overall.F1, 'f', 4, 64))
	assert.NotEmpty(t, rep.PerType)

	// -model DIR fine-tunes that checkpoint and skips pretraining; a
	// pretrain output directory stands for its final/ model.
	out2 := t.TempDir()
	stdout.Reset()
	stderr.Reset()
	require.NoError(t, run([]string{"-out", out2, "-model", filepath.Join(out, "pretrain"), "-epochs", "1", "-batch", "16", "-lr", "1e-3", "-max-len", "48"}, &stdout, &stderr), stderr.String())
	s = stdout.String()
	assert.Contains(t, s, "[2/4] model "+filepath.Join(out, "pretrain")+" (no pretraining step)")
	assert.Contains(t, s, filepath.Join(out, "pretrain", "final")+" (vocabulary 3000)", "a pretrain output directory means its final model")
	assert.NotContains(t, s, "perplexity before")
	assert.Contains(t, s, "micro avg")
	assert.NoDirExists(t, filepath.Join(out2, "pretrain"))
	assert.FileExists(t, filepath.Join(out2, "ner", "best", "model.safetensors"))
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"heads", []string{"-hidden", "30", "-heads", "4"}, "not divisible"},
		{"epochs", []string{"-epochs", "-1"}, "-epochs"},
		{"device", []string{"-device", "tpu"}, "-device"},
		{"steps", []string{"-pretrain-steps", "-2"}, "-pretrain-steps"},
		{"max len", []string{"-max-len", "8"}, "-max-len"},
		{"argument", []string{"extra"}, "unexpected argument"},
		{"unknown flag", []string{"-nope"}, "-nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(append([]string{"-out", t.TempDir()}, tc.args...), &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error()+stderr.String(), tc.want)
			assert.Empty(t, stdout.String(), "nothing runs on a bad command line")
		})
	}

	testutil.Help(t, run, "-model", "-pretrain-steps", "-epochs", "-seed", "-device", "-out", "(default 200)")

	var stderr bytes.Buffer
	c, err := parseFlags([]string{"-model", "pucpr/biobertpt-clin"}, &stderr)
	require.NoError(t, err)
	assert.Equal(t, 3, c.epochs)
	assert.Equal(t, 3e-5, c.lr)
	assert.Equal(t, 4, c.batch)
	c, err = parseFlags(nil, &stderr)
	require.NoError(t, err)
	assert.Equal(t, 8, c.epochs)
	assert.Equal(t, 16, c.batch)
}
