package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyPretrainFiles writes a tiny config over demodata's vocabulary and two
// corpora cut from demodata.ClinicalText.
func tinyPretrainFiles(t *testing.T) (dir, config, vocab, notes, bio string) {
	t.Helper()
	dir = t.TempDir()
	cfg := bert.TinyConfig()
	cfg.VocabSize = strings.Count(string(demodata.Vocab()), "\n")
	config = filepath.Join(dir, "config.json")
	require.NoError(t, cfg.Save(config))
	vocab = testutil.WriteFile(t, dir, "vocab.txt", string(demodata.Vocab()))
	lines := testutil.ClinicalLines()
	notes = testutil.WriteFile(t, dir, "notes.txt", lines[:200]...)
	bio = testutil.WriteFile(t, dir, "bio.txt", lines[200:400]...)
	return dir, config, vocab, notes, bio
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func TestPretrainCommandTiny(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, config, vocab, notes, _ := tinyPretrainFiles(t)
	out := filepath.Join(dir, "out")
	tiny := []string{"-block-size", "32", "-batch", "4", "-lr", "1e-3", "-log-steps", "1", "-validation-fraction", "0.1"}
	code, stdout, stderr := runCmd(append([]string{"pretrain", "-corpus", notes, "-config", config, "-vocab", vocab, "-out", out, "-max-steps", "4", "-save-steps", "2"}, tiny...)...)
	require.Equal(t, 0, code, stderr)
	final := filepath.Join(out, "final")
	assert.Contains(t, stdout, "stage custom: 4 steps, eval_loss")
	assert.Contains(t, stdout, "model: "+final)
	assert.Contains(t, stderr, "loss")
	assert.Contains(t, stderr, "tok/s")
	for _, f := range []string{"final/config.json", "final/model.safetensors", "final/vocab.txt", "final/tokenizer_config.json", "checkpoint-2/trainer_state.json", "checkpoint-4/optimizer.safetensors", "metrics.jsonl"} {
		assert.FileExists(t, filepath.Join(out, f))
	}

	// perplexity -json on the trained model
	code, stdout, stderr = runCmd("perplexity", "-model", final, "-corpus", notes, "-block-size", "32", "-json")
	require.Equal(t, 0, code, stderr)
	var r map[string]float64
	require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout)
	assert.Len(t, r, 3)
	assert.Greater(t, r["tokens"], 0.0)
	assert.InDelta(t, r["perplexity"], math.Exp(r["loss"]), 1e-6*r["perplexity"])
	// the run directory names its final/ model
	code, runOut, stderr := runCmd("perplexity", "-model", out, "-corpus", notes, "-block-size", "32", "-json")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, stdout, runOut)
	code, stdout, _ = runCmd("perplexity", "-model", final, "-corpus", notes, "-block-size", "32")
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "perplexity")

	// -resume on a finished run does nothing more.
	code, stdout, stderr = runCmd(append([]string{"pretrain", "-corpus", notes, "-config", config, "-vocab", vocab, "-out", out, "-max-steps", "4", "-resume"}, tiny...)...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "stage custom: already done")
}

func TestPretrainCommandAllVariant(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, config, vocab, notes, bio := tinyPretrainFiles(t)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCmd("pretrain", "-variant", "all", "-corpus-clin", notes, "-corpus-bio", bio, "-config", config, "-vocab", vocab,
		"-out", out, "-max-steps", "2", "-block-size", "32", "-validation-fraction", "0")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "stage clin: 2 steps")
	assert.Contains(t, stdout, "stage bio: 2 steps")
	assert.FileExists(t, filepath.Join(out, "clin", "final", "model.safetensors"))
	assert.FileExists(t, filepath.Join(out, "bio", "checkpoint-2", "trainer_state.json"))
	assert.FileExists(t, filepath.Join(out, "final", "model.safetensors"))
	assert.Contains(t, stderr, "stage bio: starting from "+filepath.Join(out, "clin", "final"))
}

func TestPretrainCommandErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, config, vocab, notes, _ := tinyPretrainFiles(t)
	empty := filepath.Join(dir, "empty.txt")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	small := filepath.Join(dir, "small.txt")
	require.NoError(t, os.WriteFile(small, []byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"), 0o644))
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"-corpus", notes, "-model", "m"}, 2, "-out is required"},
		{"no model", []string{"-corpus", notes, "-out", out}, 2, "need Model"},
		{"model and config", []string{"-corpus", notes, "-out", out, "-model", "m", "-config", config, "-vocab", vocab}, 2, "not both"},
		{"no corpus", []string{"-out", out, "-config", config, "-vocab", vocab}, 2, "no corpus"},
		{"bad variant", []string{"-variant", "med", "-corpus", notes, "-out", out, "-config", config, "-vocab", vocab}, 2, `unknown variant "med"`},
		{"bad lr", []string{"-lr", "-1", "-corpus", notes, "-out", out, "-config", config, "-vocab", vocab}, 2, "-lr -1: want > 0"},
		{"bad device", []string{"-device", "tpu", "-corpus", notes, "-out", out, "-config", config, "-vocab", vocab}, 2, "tpu"},
		{"empty corpus", []string{"-corpus", empty, "-out", out, "-config", config, "-vocab", vocab, "-block-size", "32"}, 1, "empty corpus"},
		{"vocab mismatch", []string{"-corpus", notes, "-out", out, "-config", config, "-vocab", small, "-block-size", "32"}, 1, "does not belong to the model"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(append([]string{"pretrain"}, tc.args...)...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stderr, tc.want)
		})
	}
	code, _, stderr := runCmd("perplexity", "-corpus", notes)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "-model and -corpus are required")
	code, _, stderr = runCmd("perplexity", "-model", filepath.Join(dir, "nope"), "-corpus", notes)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "nope")
}
