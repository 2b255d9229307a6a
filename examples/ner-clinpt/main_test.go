package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/xuri/excelize/v2"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/metrics"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// tinyModel saves a tiny BERT (no head) with demodata's vocabulary.
func tinyModel(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny-bert")
	tok, err := tokenize.New(strings.Split(strings.TrimRight(string(demodata.Vocab()), "\n"), "\n"), tokenize.DefaultOptions(), "demodata")
	require.NoError(t, err)
	cfg := bert.TinyConfig()
	cfg.VocabSize = tok.VocabSize()
	m, err := bert.NewModel(cfg, gotch.CPU)
	require.NoError(t, err)
	require.NoError(t, m.Save(dir))
	require.NoError(t, tok.Save(dir))
	return dir
}

// clinptXLSX writes the first n documents of the demo corpus as CLINpt
// workbooks (token, POS, lemma, tag; no header, as CLINpt).
func clinptXLSX(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clinpt")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	files, err := fs.ReadDir(demodata.NERFS(), ".")
	require.NoError(t, err)
	for _, f := range files[:n] {
		b, err := fs.ReadFile(demodata.NERFS(), f.Name())
		require.NoError(t, err)
		x := excelize.NewFile()
		row := 1
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			cells := strings.Split(line, "\t")
			vals := make([]any, len(cells))
			for i, c := range cells {
				vals[i] = c
			}
			cell, err := excelize.CoordinatesToCellName(1, row)
			require.NoError(t, err)
			require.NoError(t, x.SetSheetRow("Sheet1", cell, &vals))
			row++
		}
		require.NoError(t, x.SaveAs(filepath.Join(dir, strings.TrimSuffix(f.Name(), ".tsv")+".xlsx")))
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
	model := tinyModel(t)
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
		{"lr", []string{"-data", "x", "-out", "y", "-lr", "0"}, "LR"},
		{"device", []string{"-data", "x", "-out", "y", "-device", "gpu"}, "-device"},
		{"argument", []string{"-data", "x", "-out", "y", "z"}, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(tc.args, &stdout, &stderr)
			require.Error(t, err)
			assert.ErrorIs(t, err, errUsage)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	var stdout, stderr bytes.Buffer
	err := run([]string{"-data", filepath.Join(t.TempDir(), "missing"), "-out", t.TempDir()}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing")

	err = run([]string{"-h"}, &stdout, &stderr)
	assert.ErrorIs(t, err, flag.ErrHelp)
	for _, want := range []string{"-data", "-model", `(default "bert-base-multilingual-cased")`, "(default 10)", "(default 3e-05)", "(default 4)", "(default 256)"} {
		assert.Contains(t, stderr.String(), want)
	}
}
