package ner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// runFixture is a small NER run: the demo corpus's first documents, a
// tiny model with dropout, 2 epochs.
type runFixture struct {
	tok   *tokenize.Tokenizer
	split Split
	model string
}

func newRunFixture(t *testing.T, dropout float64) runFixture {
	t.Helper()
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:8]), Dev: full.Dev.subset(full.Dev.Documents[:3]),
		Test: full.Test.subset(full.Test.Documents[:2]), Seed: full.Seed, TrainFraction: full.TrainFraction, DevFraction: full.DevFraction}
	return runFixture{tok: tok, split: small, model: saveFreshModel(t, tok, tinyConfig(tok, dropout), []string{"LABEL_0", "LABEL_1"}, -1)}
}

func (f runFixture) options(out string) TrainOptions {
	o := fastOptions(out)
	o.Epochs, o.BatchSize, o.GradAccum, o.LogSteps = 2, 8, 2, 1
	return o
}

func (f runFixture) train(t *testing.T, ctx context.Context, o TrainOptions) (*TrainResult, error) {
	t.Helper()
	return Train(ctx, f.model, f.tok, f.split, o)
}

// fileSum is the SHA-256 of a file, "" when it cannot be read.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	s, err := engine.HashFile(path)
	if err != nil {
		return ""
	}
	return s
}

// TestOutDirOfAnotherRun: training into the directory of a finished run
// is refused without -resume or -overwrite, and nothing there changes
// (a file the user put into best/ included); -overwrite moves the old run
// aside whole and starts afresh, so that rotation and "latest" concern
// the new run only.
func TestOutDirOfAnotherRun(t *testing.T) {
	f := newRunFixture(t, 0)
	out := filepath.Join(t.TempDir(), "run")
	o := f.options(out)
	first, err := f.train(t, context.Background(), o)
	require.NoError(t, err)
	note := filepath.Join(out, BestDirName, "notes.txt")
	require.NoError(t, os.WriteFile(note, []byte("mine"), 0o644))
	bestSum := fileSum(t, filepath.Join(out, BestDirName, "model.safetensors"))
	metrics, err := os.ReadFile(filepath.Join(out, MetricsFileName))
	require.NoError(t, err)

	o2 := o
	o2.LR = 1e-3
	_, err = f.train(t, context.Background(), o2)
	require.Error(t, err)
	assert.ErrorContains(t, err, "already holds a run")
	assert.ErrorContains(t, err, "-resume")
	assert.ErrorContains(t, err, "-overwrite")
	assert.FileExists(t, note)
	assert.Equal(t, bestSum, fileSum(t, filepath.Join(out, BestDirName, "model.safetensors")))
	after, err := os.ReadFile(filepath.Join(out, MetricsFileName))
	require.NoError(t, err)
	assert.Equal(t, string(metrics), string(after), "metrics.jsonl untouched")

	o2.OverwriteOutputDir = true
	var log strings.Builder
	o2.Log = &log
	second, err := f.train(t, context.Background(), o2)
	require.NoError(t, err)
	assert.Contains(t, log.String(), "moved the previous run")
	aside, err := filepath.Glob(out + ".previous-*")
	require.NoError(t, err)
	require.Len(t, aside, 1)
	b, err := os.ReadFile(filepath.Join(aside[0], BestDirName, "notes.txt"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b), "the user's file moved with the old run")
	assert.Equal(t, bestSum, fileSum(t, filepath.Join(aside[0], BestDirName, "model.safetensors")))
	cs, err := trainstate.List(aside[0])
	require.NoError(t, err)
	assert.Len(t, cs, 2, "the old run's checkpoints are kept aside")

	// The new run's own checkpoints, and latest names one of them.
	cs, err = trainstate.List(out)
	require.NoError(t, err)
	require.NotEmpty(t, cs)
	assert.Equal(t, int64(second.Steps), cs[0].Step)
	latest, err := os.ReadFile(filepath.Join(out, trainstate.LatestFile))
	require.NoError(t, err)
	assert.DirExists(t, filepath.Join(out, strings.TrimSpace(string(latest))))
	m, err := engine.ReadManifest(out)
	require.NoError(t, err)
	assert.Equal(t, 1e-3, m.Training["lr"])
	assert.NotEqual(t, first.Epochs[0].TrainLoss, second.Epochs[0].TrainLoss)
}

// TestResumeChecksTheRun: a resume that would change the split (another
// split seed: the new test documents would include training documents of
// the model being resumed) or the learning rate is refused, naming the
// fields; a changed device-side setting is reported and accepted.
func TestResumeChecksTheRun(t *testing.T) {
	f := newRunFixture(t, 0)
	out := t.TempDir()
	o := f.options(out)
	ctx, cancel := context.WithCancel(context.Background())
	o.OnStep = func(m StepMetrics) {
		if m.Step == 2 {
			cancel()
		}
	}
	_, err := f.train(t, ctx, o)
	require.ErrorIs(t, err, context.Canceled)
	o.OnStep, o.Resume = nil, true

	full := demoSplit(t)
	other, err := SplitDocuments(&Corpus{Documents: append(append(append([]Document(nil), full.Train.Documents...), full.Dev.Documents...), full.Test.Documents...)}, 0.6, 0.2, 7)
	require.NoError(t, err)
	moved := Split{Train: other.Train.subset(other.Train.Documents[:8]), Dev: other.Dev.subset(other.Dev.Documents[:3]),
		Test: other.Test.subset(other.Test.Documents[:2]), Seed: 7, TrainFraction: 0.6, DevFraction: 0.2}
	_, err = Train(context.Background(), f.model, f.tok, moved, o)
	require.Error(t, err)
	for _, want := range []string{"cannot resume", "data.split_seed: 42 → 7", "data.split_test", "data.split_train"} {
		assert.ErrorContains(t, err, want)
	}

	lr := o
	lr.LR = 1e-4
	_, err = f.train(t, context.Background(), lr)
	assert.ErrorContains(t, err, "training.lr: 0.003 → 0.0001")

	var log strings.Builder
	ok := o
	ok.LogSteps, ok.Log = 2, &log
	res, err := f.train(t, context.Background(), ok)
	require.NoError(t, err)
	assert.Contains(t, log.String(), "resuming with a changed setting: runtime.log_steps: 1 → 2")
	assert.Equal(t, res.Epochs[len(res.Epochs)-1].Step, res.Steps)
	m, err := engine.ReadManifest(out)
	require.NoError(t, err)
	require.Len(t, m.Resumes, 1)
	assert.Equal(t, []string{"runtime.log_steps: 1 → 2"}, m.Resumes[0].Changed)
}

// TestResumeIsExact: with dropout on, a run cancelled inside its second
// epoch (between SaveSteps checkpoints, so the resume starts from the
// interruption's own checkpoint) and resumed ends with the
// uninterrupted run's best model, last checkpoint, test report and step
// losses, bit for bit; metrics.jsonl holds each step once and marks the
// resume; a file the user put into best/ meanwhile survives.
func TestResumeIsExact(t *testing.T) {
	f := newRunFixture(t, 0.1)
	ref := f.options(filepath.Join(t.TempDir(), "ref"))
	ref.SaveSteps, ref.SaveTotalLimit = 3, 0
	want, err := f.train(t, context.Background(), ref)
	require.NoError(t, err)

	cut := want.Epochs[0].Step + 1
	if cut%3 == 0 {
		cut++
	}
	require.Less(t, cut, want.Steps)
	o := ref
	o.OutDir = filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	o.OnStep = func(m StepMetrics) {
		if m.Step == cut {
			cancel()
		}
	}
	_, err = f.train(t, ctx, o)
	require.ErrorIs(t, err, context.Canceled)
	assert.DirExists(t, filepath.Join(o.OutDir, "checkpoint-3"), "SaveSteps 3")
	assert.DirExists(t, filepath.Join(o.OutDir, trainstate.DirName(int64(cut))), "the interruption's")
	require.NoError(t, os.WriteFile(filepath.Join(o.OutDir, BestDirName, "notes.txt"), []byte("mine"), 0o644))

	o.OnStep, o.Resume = nil, true
	got, err := f.train(t, context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, want.Steps, got.Steps)
	assert.Equal(t, want.BestEpoch, got.BestEpoch)
	assert.Equal(t, want.BestDevF1, got.BestDevF1)
	last := trainstate.DirName(int64(want.Steps))
	for _, p := range []string{filepath.Join(BestDirName, "model.safetensors"), filepath.Join(last, "model.safetensors"),
		filepath.Join(last, trainstate.OptimizerFile), TestReportJSONName, TestPredName} {
		w := fileSum(t, filepath.Join(ref.OutDir, p))
		require.NotEmpty(t, w, p)
		assert.Equal(t, w, fileSum(t, filepath.Join(o.OutDir, p)), p)
	}
	assert.FileExists(t, filepath.Join(o.OutDir, BestDirName, "notes.txt"))

	losses := func(dir string) (map[float64]float64, int) {
		out, resumes := map[float64]float64{}, 0
		for _, l := range readJSONL(t, filepath.Join(dir, MetricsFileName)) {
			switch l["kind"] {
			case "train":
				step := l["step"].(float64)
				_, dup := out[step]
				assert.False(t, dup, "step %v logged twice", step)
				out[step] = l["loss"].(float64)
			case "resume":
				resumes++
				assert.Equal(t, float64(cut), l["step"])
			}
		}
		return out, resumes
	}
	wl, _ := losses(ref.OutDir)
	gl, resumes := losses(o.OutDir)
	assert.Equal(t, wl, gl)
	assert.Equal(t, 1, resumes)
}

// TestMaxStepsInsideAnEpoch: MaxSteps below one epoch evaluates the dev
// split at the end, so the result has a real dev F1 and Best() a real
// description; without a dev split Best() says so instead of showing -1.
func TestMaxStepsInsideAnEpoch(t *testing.T) {
	f := newRunFixture(t, 0)
	o := f.options(t.TempDir())
	o.MaxSteps = 1
	res, err := f.train(t, context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Steps)
	require.Len(t, res.Epochs, 1)
	assert.GreaterOrEqual(t, res.BestDevF1, 0.0)
	assert.Equal(t, 1, res.BestEpoch)
	assert.NotContains(t, res.Best(), "-1")
	assert.Contains(t, res.Best(), "dev micro F1")
	var epochLines int
	for _, l := range readJSONL(t, filepath.Join(o.OutDir, MetricsFileName)) {
		if l["kind"] == "epoch" {
			epochLines++
			assert.GreaterOrEqual(t, l["dev_f1"], 0.0)
		}
	}
	assert.Equal(t, 1, epochLines)

	noDev := f
	noDev.split.Dev = nil
	o = f.options(t.TempDir())
	o.MaxSteps = 1
	res, err = noDev.train(t, context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, -1.0, res.BestDevF1)
	assert.Equal(t, "epoch 1 (no dev evaluation: the last epoch's model)", res.Best())
	for _, l := range readJSONL(t, filepath.Join(o.OutDir, MetricsFileName)) {
		if l["kind"] == "epoch" {
			assert.NotContains(t, l, "dev_f1", "no -1 in the log")
		}
	}
}

// TestRunManifest: run.json records the corpus files with their SHA-256,
// the split and the options.
func TestRunManifest(t *testing.T) {
	f := newRunFixture(t, 0)
	o := f.options(t.TempDir())
	o.MaxSteps = 1
	require.NoError(t, PrepareOutDir(f.model, f.split, o))
	m, err := engine.ReadManifest(o.OutDir)
	require.NoError(t, err)
	assert.Equal(t, "ner", m.Kind)
	assert.Equal(t, 42.0, m.Data["split_seed"])
	assert.Equal(t, 0.6, m.Data["split_train_fraction"])
	assert.Len(t, m.Data["model_sha256"], 64)
	assert.Len(t, m.Data["corpus_sha256"], 64)
	files := m.Runtime["corpus_files"].(map[string]any)
	require.NotEmpty(t, files)
	for p, sum := range files {
		assert.Equal(t, fileSum(t, p), sum, p)
	}
	train := m.Data["split_train"].(map[string]any)
	assert.Equal(t, 8.0, train["documents"])
	assert.Equal(t, 0.003, m.Training["lr"])
	assert.Equal(t, 64.0, m.Training["max_len"])
	// Only run.json there: a run that never started; the same call again
	// is fine (programs call PrepareOutDir, then Train calls it).
	require.NoError(t, PrepareOutDir(f.model, f.split, o))
	_, err = f.train(t, context.Background(), o)
	require.NoError(t, err)
}
