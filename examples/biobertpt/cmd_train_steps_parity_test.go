package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trainStepsExpected is testdata/train_steps/expected-<head>.json, written
// by gen_train_steps.py.
type trainStepsExpected struct {
	Generator   string    `json:"generator"`
	Model       string    `json:"model"`
	Steps       int       `json:"steps"`
	LR          float64   `json:"lr"`
	WarmupSteps int       `json:"warmup_steps"`
	WeightDecay float64   `json:"weight_decay"`
	Clip        float64   `json:"clip"`
	Losses      []float64 `json:"losses"`
	LRs         []float64 `json:"lrs"`
}

// dropoutFreeCopy copies a model directory (config.json, model.safetensors)
// with hidden and attention dropout set to 0, as gen_train_steps.py loads it.
func dropoutFreeCopy(t *testing.T, src string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(src, "config.json"))
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(raw, &cfg))
	cfg["hidden_dropout_prob"], cfg["attention_probs_dropout_prob"] = 0.0, 0.0
	out := t.TempDir()
	b, err := json.MarshalIndent(cfg, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "config.json"), b, 0o644))
	w, err := os.ReadFile(filepath.Join(src, "model.safetensors"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, "model.safetensors"), w, 0o644))
	return out
}

// runTrainStepsFixture runs train-steps on the committed batches of head
// with the fixture's settings, weight decay wd.
func runTrainStepsFixture(t *testing.T, head string, exp trainStepsExpected, wd float64) (losses, lrs []float64) {
	t.Helper()
	model := dropoutFreeCopy(t, filepath.Join("..", "..", filepath.FromSlash(exp.Model)))
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	code, stdout, stderr := runNERCmd("", "train-steps", "-model", model, "-head", head,
		"-batches", filepath.Join("testdata", "train_steps", "batches-"+head+".json"),
		"-steps", strconv.Itoa(exp.Steps), "-lr", f(exp.LR), "-warmup-steps", strconv.Itoa(exp.WarmupSteps),
		"-weight-decay", f(wd), "-clip", f(exp.Clip))
	require.Equal(t, 0, code, stderr)
	var got struct {
		Losses []float64 `json:"losses"`
		LRs    []float64 `json:"lrs"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	return got.Losses, got.LRs
}

func maxAbsDiff(a, b []float64) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestTrainStepsParityWithTorch: train-steps reproduces, step by step, the
// losses and learning rates of torch.optim.AdamW (HF Trainer's two
// parameter groups) + get_linear_schedule_with_warmup + clip_grad_norm_ on
// the tiny BERT of bert/testdata with dropout 0 (25 steps, both heads).
// The reference is testdata/train_steps/expected-<head>.json, written by
// gen_train_steps.py (see the README there for which model code produced
// it). A deliberately wrong weight decay must break the agreement, so the
// comparison can fail.
func TestTrainStepsParityWithTorch(t *testing.T) {
	for _, head := range []string{"token-classification", "mlm"} {
		t.Run(head, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "train_steps", "expected-"+head+".json"))
			require.NoError(t, err)
			var exp trainStepsExpected
			require.NoError(t, json.Unmarshal(raw, &exp))
			require.GreaterOrEqual(t, exp.Steps, 20)
			require.Len(t, exp.Losses, exp.Steps)
			require.Len(t, exp.LRs, exp.Steps)

			losses, lrs := runTrainStepsFixture(t, head, exp, exp.WeightDecay)
			require.Len(t, losses, exp.Steps)
			require.Len(t, lrs, exp.Steps)
			for i := range exp.Losses {
				assert.InDelta(t, exp.Losses[i], losses[i], 1e-4, "step %d loss", i+1)
				assert.InDelta(t, exp.LRs[i], lrs[i], 1e-12, "step %d lr", i+1)
			}
			t.Logf("%s (reference: %s): max |loss diff| %.3g over %d steps, max |lr diff| %.3g",
				head, exp.Generator, maxAbsDiff(exp.Losses, losses), exp.Steps, maxAbsDiff(exp.LRs, lrs))

			// Sensitivity: a wrong weight decay moves the losses beyond the
			// tolerance.
			wrong, _ := runTrainStepsFixture(t, head, exp, exp.WeightDecay+0.5)
			assert.Greater(t, maxAbsDiff(exp.Losses, wrong), 1e-4, fmt.Sprintf("weight decay %g vs %g", exp.WeightDecay+0.5, exp.WeightDecay))
		})
	}
}
