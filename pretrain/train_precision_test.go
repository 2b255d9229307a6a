package pretrain

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTrainOptionsPrecision(t *testing.T) {
	o := tinyOptions("c.json", "v.txt", "a.txt", "out")
	assert.Equal(t, bert.PrecisionFP32, DefaultTrainOptions().Precision)
	for _, p := range []bert.Precision{"", bert.PrecisionFP32, bert.PrecisionBF16} {
		o.Precision = p
		assert.NoError(t, o.Validate(), p)
	}
	o.Precision = "fp8"
	assert.ErrorContains(t, o.Validate(), `Precision: bert: precision "fp8": want fp32`)
}

// TestTrainBF16: the tiny model trained in bf16 (same seed, no dropout)
// starts as the fp32 run does and lowers its loss, and its final model is
// float32.
func TestTrainBF16(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 150, 0)
	mean := func(x []float64) float64 {
		var s float64
		for _, v := range x {
			s += v
		}
		return s / float64(len(x))
	}
	first, last := map[bert.Precision]float64{}, map[bert.Precision]float64{}
	steps := map[bert.Precision][]float64{}
	for _, p := range []bert.Precision{bert.PrecisionFP32, bert.PrecisionBF16} {
		o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, "out-"+string(p)))
		o.CacheDir = filepath.Join(dir, "cache")
		o.Precision = p
		o.MaxSteps, o.EvalEachEpoch, o.ValidationFraction = 60, false, 0
		o.LR = 3e-3
		res, err := Train(context.Background(), o)
		require.NoError(t, err)
		l := res.Stages[0].Losses
		require.Len(t, l, 60)
		steps[p] = l
		first[p], last[p] = mean(l[:5]), mean(l[len(l)-5:])
		w, _, err := safetensors.ReadFile(filepath.Join(res.FinalDir, bert.SafetensorsFile))
		require.NoError(t, err)
		for k, v := range w {
			assert.Equal(t, safetensors.F32, v.DType, "%s %s", p, k)
		}
	}
	t.Logf("mean loss of the first/last 5 steps: fp32 %.3f → %.3f, bf16 %.3f → %.3f",
		first[bert.PrecisionFP32], last[bert.PrecisionFP32], first[bert.PrecisionBF16], last[bert.PrecisionBF16])
	for i := 0; i < 3; i++ { // before the runs drift apart, the steps agree
		assert.InDelta(t, steps[bert.PrecisionFP32][i], steps[bert.PrecisionBF16][i], 0.02, "step %d", i+1)
	}
	// bf16 trains, though more slowly than fp32 here: Debian's CPU libtorch
	// 1.13 accumulates some bf16 matmuls in bf16 (the MLM decoder's input
	// gradient sums over the whole vocabulary), see BENCHMARKS.md.
	assert.Less(t, last[bert.PrecisionBF16], first[bert.PrecisionBF16]-0.5, "bf16 trains")
	assert.Less(t, last[bert.PrecisionFP32], first[bert.PrecisionFP32]-0.5, "fp32 trains")
}
