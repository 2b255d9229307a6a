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
	"github.com/xuri/excelize/v2"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/metrics"
)

// clinptXLSX writes the first n documents of the demo corpus as CLINpt
// workbooks (token, POS, lemma, tag; no header, as CLINpt).
func clinptXLSX(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clinpt")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, d := range testutil.NERDocs(t, n) {
		x := excelize.NewFile()
		row := 1
		for _, cells := range d.Rows {
			vals := make([]any, len(cells))
			for i, c := range cells {
				vals[i] = c
			}
			cell, err := excelize.CoordinatesToCellName(1, row)
			require.NoError(t, err)
			require.NoError(t, x.SetSheetRow("Sheet1", cell, &vals))
			row++
		}
		require.NoError(t, x.SaveAs(filepath.Join(dir, strings.TrimSuffix(d.Name, ".tsv")+".xlsx")))
		require.NoError(t, x.Close())
	}
	return dir
}

func TestRunTiny(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if testing.Short() {
		t.Skip("trains a tiny model")
	}
	model := testutil.TinyModelDir(t, bert.HeadBase, nil, nil)
	data := clinptXLSX(t, 12)
	out := filepath.Join(t.TempDir(), "results", "CLINpt", "tiny")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-data", data, "-model", model, "-out", out, "-epochs", "1", "-batch", "8", "-lr", "1e-3", "-max-len", "64"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	s := stdout.String()
	assert.Regexp(t, `CLINpt: 12 documents; train \d+ / dev \d+ / test \d+ documents`, s)
	assert.Contains(t, s, "micro avg")
	assert.Contains(t, s, "weighted avg")
	assert.Contains(t, stderr.String(), "tok/s", "progress bar on stderr")

	for _, f := range []string{"best/config.json", "best/model.safetensors", "best/vocab.txt", "test_report.txt", "test_report.json",
		"test_conlleval.txt", "test_predictions.txt", "metrics.jsonl", "split/train.txt", "split/dev.txt", "split/test.txt"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	var m Manifest
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, Manifest{Model: "tiny-bert", Corpus: "CLINpt", ModelPath: model, Data: data, Seed: 42}, m)

	// The report on stdout is the one in test_report.json, recomputed from
	// the predictions.
	pf, err := os.Open(filepath.Join(out, "test_predictions.txt"))
	require.NoError(t, err)
	defer pf.Close()
	c, err := metrics.ReadConll(pf, "test_predictions.txt", metrics.ConllOptions{})
	require.NoError(t, err)
	rep := metrics.ConllevalReport(c, metrics.Options{})
	var txt bytes.Buffer
	require.NoError(t, rep.WriteText(&txt, 4))
	assert.Contains(t, s, txt.String())

	// The same split again from the written lists gives the same documents.
	out2 := filepath.Join(t.TempDir(), "again")
	stdout.Reset()
	require.NoError(t, run([]string{"-data", data, "-model", model, "-out", out2, "-split", filepath.Join(out, "split"), "-epochs", "1", "-max-steps", "1", "-max-len", "64"}, &stdout, &stderr))
	for _, part := range []string{"train.txt", "dev.txt", "test.txt"} {
		a, err := os.ReadFile(filepath.Join(out, "split", part))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(out2, "split", part))
		require.NoError(t, err)
		assert.Equal(t, string(a), string(b), part)
	}
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no data", []string{"-out", "x"}, "-data is required"},
		{"no out", []string{"-data", "x"}, "-out is required"},
		{"lr", []string{"-data", "x", "-out", "y", "-lr", "0"}, "-lr 0: want > 0"},
		{"device", []string{"-data", "x", "-out", "y", "-device", "gpu"}, "-device"},
		{"argument", []string{"-data", "x", "-out", "y", "z"}, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) { testutil.UsageError(t, run, tc.args, tc.want) })
	}
	var stdout, stderr bytes.Buffer
	err := run([]string{"-data", filepath.Join(t.TempDir(), "missing"), "-out", t.TempDir()}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing")

	testutil.Help(t, run, "-data", "-model", `(default "bert-base-multilingual-cased")`, "(default 10)", "(default 3e-05)", "(default 4)", "(default 256)")
}

// TestRunSplitFiles: -train-file, -dev-file and -test-file train on the
// given directories' documents, listed in split/, with the files' SHA-256
// in run.json and a model card in best/.
func TestRunSplitFiles(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if testing.Short() {
		t.Skip("trains a tiny model")
	}
	model := testutil.TinyModelDir(t, bert.HeadBase, nil, nil)
	data := clinptXLSX(t, 12)
	es, err := os.ReadDir(data)
	require.NoError(t, err)
	root := t.TempDir()
	parts := map[string][]string{}
	for i, e := range es {
		part := []string{"train", "train", "train", "dev", "test", "train"}[i%6]
		require.NoError(t, os.MkdirAll(filepath.Join(root, part), 0o755))
		require.NoError(t, os.Rename(filepath.Join(data, e.Name()), filepath.Join(root, part, e.Name())))
		parts[part] = append(parts[part], strings.TrimSuffix(e.Name(), ".xlsx"))
	}
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	err = run([]string{"-train-file", filepath.Join(root, "train"), "-dev-file", filepath.Join(root, "dev"), "-test-file", filepath.Join(root, "test"),
		"-model", model, "-out", out, "-epochs", "1", "-max-steps", "1", "-batch", "8", "-max-len", "64"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stdout.String(), "CLINpt: 12 documents; train 8 / dev 2 / test 2 documents")
	for part, ids := range parts {
		b, err := os.ReadFile(filepath.Join(out, "split", part+".txt"))
		require.NoError(t, err)
		assert.Equal(t, strings.Join(ids, "\n")+"\n", string(b), part)
	}
	man, err := os.ReadFile(filepath.Join(out, "run.json"))
	require.NoError(t, err)
	assert.Contains(t, string(man), `"split_files_sha256"`)
	assert.FileExists(t, filepath.Join(out, "best", "README.md"))

	// -seeds: one run per seed, each with its results.json, and the summary.
	sweep := filepath.Join(t.TempDir(), "sweep")
	stdout.Reset()
	err = run([]string{"-train-file", filepath.Join(root, "train"), "-dev-file", filepath.Join(root, "dev"), "-test-file", filepath.Join(root, "test"),
		"-model", model, "-out", sweep, "-epochs", "1", "-max-steps", "1", "-batch", "8", "-max-len", "64", "-seeds", "3,4"}, &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	assert.Contains(t, stdout.String(), "Best seed (by dev F1)")
	for _, f := range []string{"seed-3/results.json", "seed-4/best/README.md", "summary.json", "summary.md"} {
		assert.FileExists(t, filepath.Join(sweep, f))
	}
	b, err := os.ReadFile(filepath.Join(sweep, "seed-4", "results.json"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"seed": 4`)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-test-file", "x", "-data", "d", "-out", "y"}, "need -train-file"},
		{[]string{"-train-file", "x", "-data", "d", "-out", "y"}, "not with -data"},
		{[]string{"-data", "d", "-out", "y", "-seeds", "1,1"}, "seed 1 twice"},
	} {
		err := run(tc.args, &stdout, &stderr)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}
