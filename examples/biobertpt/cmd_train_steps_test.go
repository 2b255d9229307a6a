package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/bert"
)

// stepsFixture writes a tiny model with dropout 0 (token classification
// with 3 labels, or MLM) and two pre-tokenized batches.
func stepsFixture(t *testing.T, head string) (model, batches string) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	model = t.TempDir()
	cfg := bert.TinyConfig()
	cfg.HiddenDropoutProb, cfg.AttentionProbsDropoutProb = 0, 0
	if head == "mlm" {
		m, err := bert.NewForMaskedLM(cfg, gotch.CPU)
		require.NoError(t, err)
		require.NoError(t, m.Save(model))
	} else {
		require.NoError(t, cfg.SetLabels([]string{"O", "B-X", "I-X"}))
		m, err := bert.NewForTokenClassification(cfg, gotch.CPU)
		require.NoError(t, err)
		require.NoError(t, m.Save(model))
	}
	lab := func(a, b, c int64) []int64 { return []int64{-100, a, b, c, -100} }
	if head == "mlm" {
		lab = func(a, b, c int64) []int64 {
			l := []int64{-100, 10 + a, -100, 20 + c, -100}
			if c < 0 {
				l[3] = -100
			}
			return l
		}
	}
	in := map[string][]stepBatch{"batches": {
		{InputIDs: [][]int64{{2, 11, 12, 13, 3}, {2, 14, 15, 3, 0}}, AttentionMask: [][]int64{{1, 1, 1, 1, 1}, {1, 1, 1, 1, 0}},
			TokenTypeIDs: [][]int64{{0, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}, Labels: [][]int64{lab(1, 2, 0), lab(0, 1, -100)}},
		{InputIDs: [][]int64{{2, 21, 22, 3}}, AttentionMask: [][]int64{{1, 1, 1, 1}},
			TokenTypeIDs: [][]int64{{0, 0, 0, 0}}, Labels: [][]int64{lab(1, 2, 0)[:4]}},
	}}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	batches = filepath.Join(t.TempDir(), "batches.json")
	require.NoError(t, os.WriteFile(batches, b, 0o644))
	return model, batches
}

func TestTrainStepsCommand(t *testing.T) {
	for _, head := range []string{"token-classification", "mlm"} {
		t.Run(head, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			model, batches := stepsFixture(t, head)
			args := []string{"train-steps", "-model", model, "-head", head, "-batches", batches, "-steps", "12",
				"-lr", "1e-2", "-warmup-steps", "3", "-weight-decay", "0.01", "-clip", "1.0"}
			code, stdout, stderr := runNERCmd("", args...)
			require.Equal(t, 0, code, stderr)
			var got struct {
				Losses []float64 `json:"losses"`
				LRs    []float64 `json:"lrs"`
			}
			require.NoError(t, json.Unmarshal([]byte(stdout), &got))
			require.Len(t, got.Losses, 12)
			require.Len(t, got.LRs, 12)
			// HF get_linear_schedule_with_warmup(3, 12) with lr 1e-2.
			for i, lr := range got.LRs {
				want := 1e-2 * float64(i) / 3
				if i >= 3 {
					want = 1e-2 * float64(12-i) / 9
				}
				assert.InDelta(t, want, lr, 1e-15, "step %d", i)
			}
			for _, l := range got.Losses {
				assert.False(t, math.IsNaN(l) || math.IsInf(l, 0))
			}
			// lr 0 at the first step: the second use of batch 0 (step 3) is
			// the first with an updated model; both batches are learnt.
			assert.Less(t, got.Losses[10], got.Losses[0])
			assert.Less(t, got.Losses[11], got.Losses[1])

			// Dropout 0 and a fixed order: a second run gives the same losses.
			code, stdout2, stderr := runNERCmd("", args...)
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, stdout, stdout2)
		})
	}
}

func TestTrainStepsBadBatches(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	model, _ := stepsFixture(t, "token-classification")
	for _, tc := range []struct{ name, json, want string }{
		{"empty", `{"batches":[]}`, "no batches"},
		{"ragged", `{"batches":[{"input_ids":[[2,5,3],[2,3]],"labels":[[-100,1,-100],[-100,-100]]}]}`, "input_ids row 1"},
		{"no labels", `{"batches":[{"input_ids":[[2,5,3]]}]}`, "no labels"},
		{"label out of range", `{"batches":[{"input_ids":[[2,5,3]],"labels":[[-100,7,-100]]}]}`, "labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "b.json")
			require.NoError(t, os.WriteFile(p, []byte(tc.json), 0o644))
			code, _, stderr := runNERCmd("", "train-steps", "-model", model, "-batches", p, "-steps", "2")
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}
