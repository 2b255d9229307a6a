package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/ner"
)

// TestTrainNEROutputDir: train-ner into the directory of a finished run
// is refused (exit 1, nothing changed, a file the user put into best/
// kept); -resume with another -seed (another split: test documents the
// model trained on) or another -lr is refused naming the fields, before
// the split lists are rewritten; -overwrite moves the old run aside; a
// -max-steps shorter than an epoch reports a real dev F1.
func TestTrainNEROutputDir(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	data := testutil.NERDir(t, 12)
	model := nerTinyModel(t, 0)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"train-ner", "-corpus", "clinpt", "-data", data, "-model", model, "-out", out, "-quiet",
		"-epochs", "1", "-batch", "8", "-lr", "5e-3", "-max-len", "64", "-stride", "16", "-max-steps", "1"}
	code, stdout, stderr := runNERCmd("", args...)
	require.Equal(t, 0, code, stderr)
	assert.Regexp(t, `best model: .* \(epoch 1, dev micro F1 \d\.\d{4}\)`, stdout)
	assert.NotContains(t, stdout, "-1.0000")
	note := filepath.Join(out, ner.BestDirName, "notes.txt")
	require.NoError(t, os.WriteFile(note, []byte("mine"), 0o644))
	lists, err := os.ReadFile(filepath.Join(out, "test.txt"))
	require.NoError(t, err)

	code, _, stderr = runNERCmd("", args...)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "already holds a run")
	assert.FileExists(t, note)

	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"-resume", "-seed", "7"}, "data.split_seed: 42 → 7"},
		{[]string{"-resume", "-lr", "1e-3"}, "training.lr: 0.005 → 0.001"},
	} {
		code, _, stderr = runNERCmd("", append(append([]string(nil), args...), tc.flags...)...)
		assert.Equal(t, 1, code, strings.Join(tc.flags, " "))
		assert.Contains(t, stderr, tc.want)
		after, err := os.ReadFile(filepath.Join(out, "test.txt"))
		require.NoError(t, err)
		assert.Equal(t, string(lists), string(after), "the run's split lists are untouched")
	}

	code, stdout, stderr = runNERCmd("", append(append([]string(nil), args...), "-overwrite", "-seed", "7")...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "best model: ")
	aside, err := filepath.Glob(out + ".previous-*")
	require.NoError(t, err)
	require.Len(t, aside, 1)
	assert.FileExists(t, filepath.Join(aside[0], ner.BestDirName, "notes.txt"))
	assert.FileExists(t, filepath.Join(aside[0], "test.txt"), "the old split lists went with the old run")
	assert.NoFileExists(t, note)
}
