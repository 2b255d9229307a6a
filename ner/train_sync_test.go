package ner

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
)

// TestDeferredLossReads: reading the step losses every LogSteps steps
// (queued on the device in between) gives the same epoch losses and the
// same per-step metrics lines as reading them after every step.
func TestDeferredLossReads(t *testing.T) {
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:8]), Dev: full.Dev.subset(full.Dev.Documents[:3])}
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	run := func(logSteps int, eager bool) (*TrainResult, map[float64]float64) {
		o := fastOptions(t.TempDir())
		o.Epochs, o.BatchSize, o.GradAccum, o.LogSteps = 2, 8, 2, logSteps
		o.deferReads(!eager) // as on CUDA
		if eager {
			o.OnStep = func(StepMetrics) {}
		}
		res, err := Train(context.Background(), modelDir, tok, small, o)
		require.NoError(t, err)
		losses := map[float64]float64{}
		for _, l := range readJSONL(t, filepath.Join(o.OutDir, MetricsFileName)) {
			if l["kind"] == "train" {
				losses[l["step"].(float64)] = l["loss"].(float64)
				assert.Greater(t, l["grad_norm"], 0.0)
				assert.Greater(t, l["tokens_per_s"], 0.0)
				assert.Greater(t, l["peak_mem_gib"], 0.0)
			}
		}
		return res, losses
	}
	eager, every := run(1, true)
	lazy, some := run(3, false)
	require.Greater(t, lazy.Steps, 6)
	assert.Equal(t, eager.Steps, lazy.Steps)
	require.Len(t, lazy.Epochs, len(eager.Epochs))
	for i := range eager.Epochs {
		assert.Equal(t, eager.Epochs[i].TrainLoss, lazy.Epochs[i].TrainLoss, "epoch %d", i+1)
	}
	require.Len(t, some, (lazy.Steps+2)/3, "every third step and the last")
	for step, l := range some {
		if int(step) != lazy.Steps {
			assert.Equal(t, 0.0, float64(int(step)%3), "step %v", step)
		}
		assert.Equal(t, every[step], l, "step %v", step)
	}
}

// TestTrainPrecision: Precision is validated, and a bf16 run (float32
// master weights) trains and saves a float32 model.
func TestTrainPrecision(t *testing.T) {
	o := fastOptions("out")
	o.Precision = "fp8"
	assert.ErrorContains(t, o.Validate(), `Precision: bert: precision "fp8"`)
	o = fastOptions("out")
	o.LogSteps = -1
	assert.ErrorContains(t, o.Validate(), "LogSteps -1")
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:4])}
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	o = fastOptions(t.TempDir())
	o.Precision, o.MaxSteps, o.Epochs = bert.PrecisionBF16, 3, 1
	res, err := Train(context.Background(), modelDir, tok, small, o)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Steps)
	m, _, err := bert.LoadForTokenClassification(res.BestDir, bert.LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, bert.PrecisionFP32, m.Precision(), "a loaded model starts in fp32")
}

// TestTrainMaxMemory: a memory cap the run cannot keep stops training at
// the first step with an out-of-memory error that names the step and the
// batch shape and says what to do; a generous cap changes nothing.
func TestTrainMaxMemory(t *testing.T) {
	o := fastOptions("out")
	o.MaxMemoryGiB = -1
	assert.ErrorContains(t, o.Validate(), "MaxMemoryGiB -1")
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:4])}
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)

	o = fastOptions(t.TempDir())
	o.MaxSteps, o.Epochs, o.MaxMemoryGiB = 2, 1, 0.001
	_, err := Train(context.Background(), modelDir, tok, small, o)
	require.Error(t, err)
	assert.ErrorIs(t, err, torchutil.ErrOutOfMemory)
	assert.ErrorContains(t, err, "ner: train: step 1: torchutil: peak host memory")
	assert.ErrorIs(t, err, bert.ErrOutOfMemory)
	assert.ErrorContains(t, err, "use gradient accumulation")
	assert.NotContains(t, err.Error(), "-grad-accum", "library errors name no command-line flag")

	o = fastOptions(t.TempDir())
	o.MaxSteps, o.Epochs, o.MaxMemoryGiB = 2, 1, 1000
	res, err := Train(context.Background(), modelDir, tok, small, o)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Steps)
}

// TestLossScalingWiring runs the NER trainer with fp16's loss scaler on at
// fp32 (fp16 itself needs CUDA): 2¹⁶ scaling is exact in float32, so the
// epoch losses and dev scores equal the unscaled run's; the metrics report
// the scale and a resumable checkpoint carries it.
func TestLossScalingWiring(t *testing.T) {
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:6]), Dev: full.Dev.subset(full.Dev.Documents[:2])}
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	run := func(scaled bool) (*TrainResult, string) {
		o := fastOptions(t.TempDir())
		o.Epochs, o.BatchSize, o.LogSteps = 2, 8, 1
		o.forceScaler(scaled)
		res, err := Train(context.Background(), modelDir, tok, small, o)
		require.NoError(t, err)
		return res, o.OutDir
	}
	plain, _ := run(false)
	scaled, out := run(true)
	require.Len(t, scaled.Epochs, 2)
	for i := range plain.Epochs {
		assert.Equal(t, plain.Epochs[i].TrainLoss, scaled.Epochs[i].TrainLoss, "epoch %d", i+1)
		assert.Equal(t, plain.Epochs[i].DevF1, scaled.Epochs[i].DevF1, "epoch %d", i+1)
	}
	lines := readJSONL(t, filepath.Join(out, MetricsFileName))
	require.NotEmpty(t, lines)
	assert.Equal(t, 65536.0, lines[0]["loss_scale"])
	_, st, found, err := latestCheckpoint(out)
	require.NoError(t, err)
	require.True(t, found)
	require.NotNil(t, st.Scaler)
	assert.Equal(t, 65536.0, st.Scaler.Scale)
	assert.Equal(t, scaled.Steps, st.Scaler.GrowthTracker)
}

// TestFixedShapePath: the CUDA-graph path's fixed shapes (every batch
// padded to BatchSize × MaxLen and copied into the same buffers) train as
// the dynamic shapes do (padding changes no loss or gradient); the graph
// itself needs CUDA, and CUDAGraph is refused without it, with fp16 and
// with class weights.
func TestFixedShapePath(t *testing.T) {
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:6]), Dev: full.Dev.subset(full.Dev.Documents[:2])}
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	run := func(fixed bool) *TrainResult {
		o := fastOptions(t.TempDir())
		o.Epochs, o.BatchSize, o.GradAccum = 2, 8, 2
		o.fixedShapes(fixed)
		res, err := Train(context.Background(), modelDir, tok, small, o)
		require.NoError(t, err)
		return res
	}
	dynamic, fixed := run(false), run(true)
	require.Len(t, fixed.Epochs, 2)
	for i := range dynamic.Epochs {
		assert.InDelta(t, dynamic.Epochs[i].TrainLoss, fixed.Epochs[i].TrainLoss, 1e-5, "epoch %d", i+1)
		assert.InDelta(t, dynamic.Epochs[i].DevF1, fixed.Epochs[i].DevF1, 1e-9, "epoch %d", i+1)
	}

	o := fastOptions(t.TempDir())
	o.CUDAGraph = true
	if !gotch.CUDA.IsAvailable() {
		_, err := Train(context.Background(), modelDir, tok, small, o)
		assert.ErrorIs(t, err, errNoGraphs)
	}
	o.Precision = bert.PrecisionFP16
	assert.ErrorContains(t, o.Validate(), "CUDAGraph true: not with fp16")
	o.Precision, o.BalanceClasses = bert.PrecisionFP32, true
	assert.ErrorContains(t, o.Validate(), "CUDAGraph true: not with class weights")
}

// TestCUDAGraphTraining (CUDA only): replaying the recorded forward and
// backward trains as the eager fixed-shape path does (dropout off).
func TestCUDAGraphTraining(t *testing.T) {
	if !gotch.CUDA.IsAvailable() || !bbshim.HasGraphs() {
		t.Skip("needs CUDA and bbshim's CUDA graphs")
	}
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:6]), Dev: full.Dev.subset(full.Dev.Documents[:2])}
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	run := func(graph bool) *TrainResult {
		o := fastOptions(t.TempDir())
		o.Device = "cuda"
		o.Epochs, o.BatchSize, o.GradAccum = 2, 8, 2
		o.CUDAGraph = graph
		o.fixedShapes(!graph)
		res, err := Train(context.Background(), modelDir, tok, small, o)
		require.NoError(t, err)
		return res
	}
	eager, graph := run(false), run(true)
	for i := range eager.Epochs {
		assert.InDelta(t, eager.Epochs[i].TrainLoss, graph.Epochs[i].TrainLoss, 1e-4, "epoch %d", i+1)
	}
}
