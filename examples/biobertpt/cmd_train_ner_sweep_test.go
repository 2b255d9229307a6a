package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/modelcard"
	"github.com/biobertpt-go/biobertpt/ner"
)

// splitDirs copies the first n demo NER files into train/, dev/ and test/
// directories (every third file to dev and test) and returns them.
func splitDirs(t *testing.T, n int) (train, dev, test string) {
	t.Helper()
	src := testutil.NERDir(t, n)
	root := t.TempDir()
	train, dev, test = filepath.Join(root, "train"), filepath.Join(root, "dev"), filepath.Join(root, "test")
	es, err := os.ReadDir(src)
	require.NoError(t, err)
	for i, e := range es {
		to := []string{train, train, dev, train, train, test}[i%6]
		require.NoError(t, os.MkdirAll(to, 0o755))
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(to, e.Name()), b, 0o644))
	}
	return train, dev, test
}

// TestTrainNERSplitFilesSweep: train-ner -train/-dev/-test with -seeds 1,2
// trains one run per seed on exactly the given files' documents (the lists
// in each run's output), records the files' SHA-256 in run.json, and
// summarises the runs in summary.json/summary.md; without -dev a seeded
// share of -train's documents is the dev part.
func TestTrainNERSplitFilesSweep(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	train, dev, test := splitDirs(t, 12)
	model := nerTinyModel(t, 0)
	out := filepath.Join(t.TempDir(), "sweep")
	args := []string{"train-ner", "-corpus", "clinpt", "-train", train, "-dev", dev, "-test", test, "-model", model, "-out", out, "-quiet",
		"-epochs", "1", "-batch", "8", "-lr", "5e-3", "-max-len", "64", "-stride", "16", "-max-steps", "1", "-seeds", "1,2", "-dataset", "demo-clinpt", "-license", "cc-by-4.0"}
	code, stdout, stderr := runNERCmd("", args...)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "== seed 2: ")
	assert.Contains(t, stdout, "| **micro** |")

	names := func(dir string) string {
		es, err := os.ReadDir(dir)
		require.NoError(t, err)
		var ns []string
		for _, e := range es {
			ns = append(ns, strings.TrimSuffix(e.Name(), ".tsv"))
		}
		return strings.Join(ns, "\n") + "\n"
	}
	wantSums := map[string]string{}
	for part, dir := range map[string]string{"train": train, "dev": dev, "test": test} {
		sum, err := ner.HashPath(dir)
		require.NoError(t, err)
		wantSums[part] = sum
	}
	for _, seed := range []int64{1, 2} {
		sd := ner.SeedDir(out, seed)
		for part, dir := range map[string]string{"train": train, "dev": dev, "test": test} {
			b, err := os.ReadFile(filepath.Join(sd, part+".txt"))
			require.NoError(t, err)
			assert.Equal(t, names(dir), string(b), "seed %d %s list", seed, part)
		}
		m, err := engine.ReadManifest(sd)
		require.NoError(t, err)
		assert.EqualValues(t, seed, m.Training["seed"])
		got := map[string]string{}
		for k, v := range m.Data["split_files_sha256"].(map[string]any) {
			got[k] = v.(string)
		}
		assert.Equal(t, wantSums, got)
		card, err := os.ReadFile(filepath.Join(sd, ner.BestDirName, modelcard.FileName))
		require.NoError(t, err)
		meta, _, err := modelcard.Parse(card)
		require.NoError(t, err)
		assert.Equal(t, []string{"demo-clinpt"}, meta.Datasets)
		assert.Equal(t, "cc-by-4.0", meta.License)
		assert.Equal(t, fmt.Sprintf("sweep-seed-%d", seed), meta.ModelIndex[0].Name)
	}
	var s ner.SweepSummary
	b, err := os.ReadFile(filepath.Join(out, ner.SweepSummaryName))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &s))
	assert.Equal(t, []int64{1, 2}, s.Seeds)
	require.Len(t, s.Runs, 2)
	assert.Len(t, s.Micro.F1.Values, 2)
	assert.InDelta(t, (s.Runs[0].TestF1+s.Runs[1].TestF1)/2, s.Micro.F1.Mean, 1e-12)
	assert.Contains(t, []int64{1, 2}, s.BestSeed)
	assert.FileExists(t, filepath.Join(out, ner.SweepSummaryMDName))

	// No -dev: dev/(train+dev) = 0.25 of -train's documents, none of them
	// in the training list.
	out2 := filepath.Join(t.TempDir(), "nodev")
	code, _, stderr = runNERCmd("", "train-ner", "-corpus", "clinpt", "-train", train, "-test", test, "-model", model, "-out", out2, "-quiet",
		"-epochs", "1", "-batch", "8", "-max-len", "64", "-stride", "16", "-max-steps", "1")
	require.Equal(t, 0, code, stderr)
	tr, err := os.ReadFile(filepath.Join(out2, "train.txt"))
	require.NoError(t, err)
	dv, err := os.ReadFile(filepath.Join(out2, "dev.txt"))
	require.NoError(t, err)
	assert.NotEmpty(t, strings.TrimSpace(string(dv)))
	assert.Equal(t, names(train), sortedLines(string(tr)+string(dv)))

	// A changed test file is another run: -resume refuses it, naming the field.
	es, err := os.ReadDir(test)
	require.NoError(t, err)
	f, err := os.OpenFile(filepath.Join(test, es[0].Name()), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("extra\tX\textra\tO\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	code, _, stderr = runNERCmd("", "train-ner", "-corpus", "clinpt", "-train", train, "-test", test, "-model", model, "-out", out2, "-quiet",
		"-epochs", "1", "-batch", "8", "-max-len", "64", "-stride", "16", "-max-steps", "1", "-resume")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "split_files_sha256")

	code, _, stderr = runNERCmd("", "train-ner", "-corpus", "clinpt", "-data", train, "-test", test, "-model", model, "-out", out2)
	assert.Equal(t, 2, code, "-test needs -train")
	assert.Contains(t, stderr, "-train")
	code, _, stderr = runNERCmd("", "train-ner", "-corpus", "brat", "-data", train, "-group", "all", "-seeds", "1,2", "-model", model, "-out", out2)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "not with -group all")
	code, _, stderr = runNERCmd("", "train-ner", "-corpus", "clinpt", "-data", train, "-seeds", "1,x", "-model", model, "-out", out2)
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `"x" is not an integer`)
}

func sortedLines(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(ls)
	return strings.Join(ls, "\n") + "\n"
}
