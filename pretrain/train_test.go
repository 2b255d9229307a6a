package pretrain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/tokenize"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// tinySetup writes a tiny BERT config over demodata's 3,000-token vocabulary
// and a corpus of the first nLines lines of demodata.ClinicalText (all when
// nLines ≤ 0) into a temporary directory.
func tinySetup(t *testing.T, nLines int, dropout float64) (dir, configPath, vocabPath, corpus string) {
	t.Helper()
	dir = t.TempDir()
	cfg := bert.TinyConfig()
	cfg.VocabSize = strings.Count(string(demodata.Vocab()), "\n")
	cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb = dropout, dropout
	configPath = filepath.Join(dir, "config.json")
	require.NoError(t, cfg.Save(configPath))
	vocabPath = filepath.Join(dir, "vocab.txt")
	require.NoError(t, os.WriteFile(vocabPath, demodata.Vocab(), 0o644))
	text := demodata.ClinicalText()
	if nLines > 0 {
		lines := strings.SplitAfter(text, "\n")
		text = strings.Join(lines[:min(nLines, len(lines))], "")
	}
	corpus = filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(corpus, []byte(text), 0o644))
	return dir, configPath, vocabPath, corpus
}

// tinyOptions trains the tiny model from scratch on corpus into out.
func tinyOptions(configPath, vocabPath, corpus, out string) TrainOptions {
	o := DefaultTrainOptions()
	o.Config, o.Vocab = configPath, vocabPath
	o.Corpora = map[string][]string{"": {corpus}}
	o.OutDir = out
	o.BlockSize = 32
	o.BatchSize = 4
	o.LR = 1e-3
	o.ValidationFraction = 0.1
	o.SaveSteps = 0
	o.LogSteps = 1
	o.Epochs = 1
	o.Workers = 1
	return o
}

func TestTrainOptionsValidate(t *testing.T) {
	base := tinyOptions("c.json", "v.txt", "a.txt", "out")
	require.NoError(t, base.Validate())
	for _, tc := range []struct {
		name string
		edit func(*TrainOptions)
		want string
	}{
		{"no corpus", func(o *TrainOptions) { o.Corpora = nil }, "Corpora is empty"},
		{"model and config", func(o *TrainOptions) { o.Model = "m" }, "not both"},
		{"no model", func(o *TrainOptions) { o.Config = "" }, "need Model"},
		{"no out", func(o *TrainOptions) { o.OutDir = "" }, "OutDir"},
		{"variant", func(o *TrainOptions) { o.Variant = "med" }, `unknown variant "med"`},
		{"lr", func(o *TrainOptions) { o.LR = 0 }, "LR"},
		{"save limit", func(o *TrainOptions) { o.SaveTotalLimit = -1 }, "SaveTotalLimit"},
		{"eval without split", func(o *TrainOptions) { o.ValidationFraction = 0 }, "EvalEachEpoch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.edit(&o)
			assert.ErrorContains(t, o.Validate(), tc.want)
		})
	}
}

func TestBindStages(t *testing.T) {
	all, err := LookupVariant("all")
	require.NoError(t, err)
	st, err := bindStages(all, map[string][]string{"clin": {"a.txt"}, "bio": {"b.txt", "c.txt"}})
	require.NoError(t, err)
	assert.Equal(t, []BoundStage{{Name: "clin", Files: []string{"a.txt"}}, {Name: "bio", Files: []string{"b.txt", "c.txt"}}}, st)

	st, err = bindStages(all, map[string][]string{CorpusClinical: {"a.txt"}, "bio": {"b.txt"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"a.txt"}, st[0].Files)

	_, err = bindStages(all, map[string][]string{"clin": {"a.txt"}})
	assert.ErrorContains(t, err, "no files for corpus")

	custom, err := LookupVariant("custom")
	require.NoError(t, err)
	st, err = bindStages(custom, map[string][]string{"custom": {"x.txt"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"x.txt"}, st[0].Files)
}

// TestTrainTinyLowersPerplexity is the CPU proof: a tiny BERT trained from
// scratch for 100 steps (about 10 s) on the demo clinical notes cuts its
// perplexity on them several-fold, and the final directory is an HF model
// directory that loads again.
func TestTrainTinyLowersPerplexity(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 10 s")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 0, 0.1)
	out := filepath.Join(dir, "out")
	o := tinyOptions(cfgPath, vocabPath, corpus, out)
	o.MaxSteps = 100
	o.BatchSize = 8
	o.LR = 3e-3
	o.LogSteps = 25
	var log bytes.Buffer
	o.Log = &log

	m0, tok, err := loadModel(context.Background(), modelSource{config: cfgPath, vocab: vocabPath}, gotch.CPU, 42)
	require.NoError(t, err)
	po := DefaultPerplexityOptions()
	po.BlockSize, po.BatchSize = 32, 32
	before, err := Perplexity(context.Background(), m0, tok, []string{corpus}, po)
	require.NoError(t, err)

	res, err := Train(context.Background(), o)
	require.NoError(t, err, log.String())
	require.Len(t, res.Stages, 1)
	assert.Equal(t, filepath.Join(out, "final"), res.FinalDir)
	for _, f := range []string{"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"} {
		assert.FileExists(t, filepath.Join(res.FinalDir, f))
	}
	m1, _, err := bert.LoadForMaskedLM(res.FinalDir, bert.LoadOptions{})
	require.NoError(t, err)
	tok1, err := tokenize.Load(res.FinalDir)
	require.NoError(t, err)
	after, err := Perplexity(context.Background(), m1, tok1, []string{corpus}, po)
	require.NoError(t, err)
	t.Logf("perplexity %.1f → %.1f (%d masked tokens), %s", before.Perplexity, after.Perplexity, after.Tokens, res.Duration)
	assert.Equal(t, before.Tokens, after.Tokens, "same masks")
	assert.Less(t, after.Perplexity, before.Perplexity/5)

	// metrics.jsonl: a line every 25 steps and the validation metrics.
	b, err := os.ReadFile(filepath.Join(out, metricsFile))
	require.NoError(t, err)
	var steps, evals int
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if _, ok := m["eval_loss"]; ok {
			evals++
		} else {
			steps++
		}
	}
	assert.Equal(t, 4, steps)
	assert.GreaterOrEqual(t, evals, 1)
	require.NotEmpty(t, res.Stages[0].Evals)
	ev := res.Stages[0].Evals
	assert.Less(t, ev[len(ev)-1].Perplexity, before.Perplexity/5)
	assert.Contains(t, log.String(), "tok/s")
}

// TestTrainEpochs: without MaxSteps, Epochs epochs run; each epoch end
// evaluates and checkpoints, and the data position of the epoch-end
// checkpoint is the start of the next epoch.
func TestTrainEpochs(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 80, 0.1)
	o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, "out"))
	o.Epochs = 2
	o.GradAccum = 3
	o.WarmupRatio = 0.1
	res, err := Train(context.Background(), o)
	require.NoError(t, err)
	s := res.Stages[0]
	spe := (s.TrainBlocks/o.BatchSize + min(1, s.TrainBlocks%o.BatchSize) + 2) / 3
	require.Greater(t, spe, 1)
	assert.Equal(t, 2*spe, s.TotalSteps)
	assert.Equal(t, 2*spe, s.Steps)
	assert.Len(t, s.Losses, 2*spe)
	require.Len(t, s.Evals, 2)
	assert.Equal(t, []float64{1, 2}, []float64{s.Evals[0].Epoch, s.Evals[1].Epoch})
	step, pos, info, err := ReadCheckpoint(filepath.Join(o.OutDir, fmt.Sprintf("checkpoint-%d", spe)))
	require.NoError(t, err)
	assert.Equal(t, spe, step)
	assert.Equal(t, Position{Epoch: 1}, pos)
	assert.Equal(t, (2*spe+9)/10, info.WarmupSteps, "ceil(0.1 × steps)")
	assert.Len(t, info.Evals, 1)
	assert.Equal(t, s.Evals[1].Perplexity, math.Exp(s.Evals[1].Loss))
}

// TestTrainStepDoesNotLeakTensors: with the garbage collector off (no
// finalizer frees anything), the number of live gotch tensors is the same
// after every step.
func TestTrainStepDoesNotLeakTensors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 300, 0.1)
	o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, "out"))
	o.MaxSteps = 10
	o.GradAccum = 2
	live := map[int]int{}
	o.OnStep = func(m StepMetrics) { live[m.Step] = len(ts.ExistingTensors) }
	_, err := Train(context.Background(), o)
	require.NoError(t, err)
	for s := 3; s <= 9; s++ {
		assert.Equal(t, live[2], live[s], "live tensors after step %d", s)
	}
}

// TestTrainMBERT continues mBERT's pretraining for two steps of batch 2 ×
// 128 on the demo notes; it runs only when BIOBERTPT_MBERT_DIR names an
// HF bert-base-multilingual-cased directory.
func TestTrainMBERT(t *testing.T) {
	mdir := os.Getenv("BIOBERTPT_MBERT_DIR")
	if mdir == "" {
		t.Skip("BIOBERTPT_MBERT_DIR is not set")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, _, _, corpus := tinySetup(t, 200, 0.1)
	o := DefaultTrainOptions()
	o.Model = mdir
	o.Corpora = map[string][]string{"": {corpus}}
	o.OutDir = filepath.Join(dir, "out")
	o.MaxSteps, o.BatchSize, o.BlockSize = 2, 2, 128
	res, err := Train(context.Background(), o)
	require.NoError(t, err)
	for _, l := range res.Stages[0].Losses {
		assert.Less(t, l, 6.0, "mBERT already models Portuguese")
	}
	assert.FileExists(t, filepath.Join(res.FinalDir, "model.safetensors"))
}

// TestDeferredLossReads: reading the losses every LogSteps steps (the
// default, no OnStep) gives exactly the per-step losses, gradient norms
// and metrics lines of reading them after every step (OnStep set), and
// Losses still holds one loss per step.
func TestDeferredLossReads(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 300, 0)
	run := func(name string, onStep bool) ([]float64, string) {
		o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, name))
		o.MaxSteps, o.LogSteps, o.GradAccum = 11, 4, 2
		o.deferReads(true) // as on CUDA
		var seen []StepMetrics
		if onStep {
			o.OnStep = func(m StepMetrics) { seen = append(seen, m) }
		}
		res, err := Train(context.Background(), o)
		require.NoError(t, err)
		if onStep {
			require.Len(t, seen, 11)
			for i, m := range seen {
				assert.Equal(t, i+1, m.Step)
				assert.Greater(t, m.GradNorm, 0.0)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, name, metricsFile))
		require.NoError(t, err)
		return res.Stages[0].Losses, string(b)
	}
	eager, eagerLog := run("eager", true)
	lazy, lazyLog := run("lazy", false)
	require.Len(t, lazy, 11)
	assert.Equal(t, eager, lazy)
	var steps []float64
	for _, line := range strings.Split(strings.TrimSpace(lazyLog), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		if _, ok := m["loss"]; ok {
			steps = append(steps, m["step"].(float64))
			assert.Greater(t, m["grad_norm"], 0.0)
			assert.Greater(t, m["peak_mem_gib"], 0.0)
		}
	}
	assert.Equal(t, []float64{4, 8, 11}, steps)
	stripTimes := func(s string) string { // lines differ only in their clock, rate and memory fields
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
			var m map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &m))
			for k := range m {
				if strings.Contains(k, "time") || k == "peak_mem_gib" || k == "tokens_per_s" {
					delete(m, k)
				}
			}
			b, _ := json.Marshal(m)
			out = append(out, string(b))
		}
		return strings.Join(out, "\n")
	}
	assert.Equal(t, stripTimes(eagerLog), stripTimes(lazyLog))
}

// TestTrainMaxMemory: a cap the run cannot keep ends it at the first step
// with an out-of-memory error and the batch-size hint; MaxMemoryGiB is
// validated.
func TestTrainMaxMemory(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 100, 0)
	o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, "out"))
	o.MaxMemoryGiB = math.NaN()
	assert.ErrorContains(t, o.Validate(), "MaxMemoryGiB NaN")
	o.MaxSteps, o.MaxMemoryGiB = 3, 0.001
	_, err := Train(context.Background(), o)
	require.Error(t, err)
	assert.ErrorIs(t, err, torchutil.ErrOutOfMemory)
	assert.ErrorContains(t, err, "step 1: torchutil: peak host memory")
	assert.ErrorIs(t, err, bert.ErrOutOfMemory)
	assert.ErrorContains(t, err, "use gradient accumulation")
	assert.NotContains(t, err.Error(), "-grad-accum", "library errors name no command-line flag")
}

// TestLossScalingWiring runs the trainer with fp16's loss scaler switched
// on at fp32 (on the CPU, where fp16 itself cannot run): scaling by 2¹⁶
// and unscaling are exact in float32, so the losses equal those of the
// unscaled run; the metrics lines report the scale and the checkpoint
// keeps it for a resume.
func TestLossScalingWiring(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 200, 0)
	run := func(name string, scaled bool) []float64 {
		o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, name))
		o.MaxSteps, o.GradAccum, o.SaveSteps = 6, 2, 3
		o.forceScaler(scaled)
		res, err := Train(context.Background(), o)
		require.NoError(t, err)
		return res.Stages[0].Losses
	}
	plain, scaled := run("plain", false), run("scaled", true)
	require.Len(t, scaled, 6)
	assert.Equal(t, plain, scaled)

	b, err := os.ReadFile(filepath.Join(dir, "scaled", metricsFile))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"loss_scale":65536`)
	assert.Contains(t, string(b), `"skipped_steps":0`)
	_, _, info, err := ReadCheckpoint(filepath.Join(dir, "scaled", "checkpoint-3"))
	require.NoError(t, err)
	require.NotNil(t, info.Scaler)
	assert.Equal(t, 65536.0, info.Scaler.Scale)
	assert.Equal(t, 3, info.Scaler.GrowthTracker)
	_, _, info, err = ReadCheckpoint(filepath.Join(dir, "plain", "checkpoint-3"))
	require.NoError(t, err)
	assert.Nil(t, info.Scaler, "no scaler state without fp16")
}
