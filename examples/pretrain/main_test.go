package main

import (
	"bytes"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
)

// tinyCorpora writes two small corpora and a held-out file from the demo notes.
func tinyCorpora(t *testing.T) (clin, bio, eval string) {
	t.Helper()
	dir, lines := t.TempDir(), testutil.ClinicalLines()
	return testutil.WriteFile(t, dir, "clin.txt", lines[:150]...), testutil.WriteFile(t, dir, "bio.txt", lines[150:300]...),
		testutil.WriteFile(t, dir, "eval.txt", lines[300:360]...)
}

func tinyFlags(model, out string) []string {
	return []string{"-model", model, "-out", out, "-max-steps", "2", "-batch", "2", "-block-size", "32",
		"-lr", "1e-3", "-validation-fraction", "0.1", "-workers", "1", "-save-steps", "0"}
}

func TestRunVariants(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	model := testutil.TinyModelDir(t, bert.HeadMaskedLM, nil, nil)
	clin, bio, eval := tinyCorpora(t)

	t.Run("clin with perplexity", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "clin")
		var stdout, stderr bytes.Buffer
		err := run(append(tinyFlags(model, out), "-variant", "clin", "-corpus-clin", clin, "-eval", eval), &stdout, &stderr)
		require.NoError(t, err, stderr.String())
		s := stdout.String()
		assert.Contains(t, s, "BioBERTpt(clin)")
		assert.Contains(t, s, "stage clin: "+clin)
		assert.Regexp(t, `stage clin: 2 steps, loss [0-9.]+ → [0-9.]+, validation perplexity [0-9.]+; model in `, s)
		assert.Regexp(t, `perplexity on .*eval.txt: [0-9.]+ before, [0-9.]+ after`, s)
		assert.FileExists(t, filepath.Join(out, "final", "model.safetensors"))
		assert.FileExists(t, filepath.Join(out, "final", "vocab.txt"))
	})

	t.Run("all runs clin then bio", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "all")
		var stdout, stderr bytes.Buffer
		err := run(append(tinyFlags(model, out), "-variant", "all", "-corpus-clin", clin, "-corpus-bio", bio), &stdout, &stderr)
		require.NoError(t, err, stderr.String())
		s := stdout.String()
		assert.Contains(t, s, "BioBERTpt(all)")
		ci, bi := strings.Index(s, "stage clin: 2 steps"), strings.Index(s, "stage bio: 2 steps")
		require.GreaterOrEqual(t, ci, 0, s)
		assert.Greater(t, bi, ci, s)
		assert.FileExists(t, filepath.Join(out, "clin", "final", "model.safetensors"))
		assert.FileExists(t, filepath.Join(out, "final", "model.safetensors"))
	})
}

func TestRunErrors(t *testing.T) {
	clin, bio, _ := tinyCorpora(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"-corpus-clin", clin}, "-out is required"},
		{"variant", []string{"-out", "x", "-variant", "med", "-corpus-clin", clin}, `-variant "med"`},
		{"custom is not a paper variant", []string{"-out", "x", "-variant", "custom", "-corpus-clin", clin}, `-variant "custom"`},
		{"clin without files", []string{"-out", "x", "-variant", "clin"}, "no files for stage clin"},
		{"all without bio", []string{"-out", "x", "-variant", "all", "-corpus-clin", clin}, "no files for stage bio"},
		{"bio flag on clin", []string{"-out", "x", "-variant", "clin", "-corpus-clin", clin, "-corpus-bio", bio}, "has no bio stage"},
		{"lr", []string{"-out", "x", "-corpus-clin", clin, "-lr", "0"}, "-lr 0: want > 0"},
		{"format", []string{"-out", "x", "-corpus-clin", clin, "-format", "xml"}, "-format"},
		{"unnamed corpus", []string{"-out", "x", "-corpus", clin}, "name every path"},
		{"config without vocab", []string{"-out", "x", "-corpus-clin", clin, "-config", "c.json"}, "Config and Vocab"},
	} {
		t.Run(tc.name, func(t *testing.T) { testutil.UsageError(t, run, tc.args, tc.want) })
	}

	testutil.Help(t, run, "-variant", "-corpus-clin", "-corpus-bio", `(default "bert-base-multilingual-cased")`, "(default 5)", "(default 4)", "(default 2e-05)", "(default 512)", "(default 0.15)")
}
