package pretrain

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden_losses.json from the current trainer")

// goldenLossesFile holds the per-step losses of fixed pretraining runs (the
// tiny model from scratch on the demo notes, dropout on): the trainer's
// arithmetic must not change them (bit for bit on the CPU that recorded them).
const goldenLossesFile = "testdata/golden_losses.json"

// goldenRelTol is the relative tolerance of TestGoldenLosses: other CPUs'
// BLAS kernels round the last float32 bits differently (about 1e-7 after a
// dozen steps); a changed step moves the losses by far more.
const goldenRelTol = 1e-5

// TestGoldenLosses runs fixed pretraining configurations and compares every
// step's loss, within goldenRelTol, with the losses recorded in goldenLossesFile.
func TestGoldenLosses(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 200, 0.1)
	cases := map[string]func(o *TrainOptions){
		"accum2-dropout": func(o *TrainOptions) {
			o.MaxSteps, o.GradAccum, o.WarmupSteps, o.SaveSteps = 8, 2, 2, 3
		},
		"epoch-clip": func(o *TrainOptions) {
			o.Epochs, o.BatchSize, o.MaxGradNorm, o.WeightDecay, o.WarmupRatio = 1, 8, 0.5, 0, 0.2
		},
	}
	got := map[string][]float64{}
	for name, edit := range cases {
		o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, name))
		o.CacheDir = filepath.Join(dir, "cache")
		edit(&o)
		res, err := Train(context.Background(), o)
		require.NoError(t, err, name)
		got[name] = res.Stages[0].Losses
		require.NotEmpty(t, got[name], name)
	}
	if *updateGolden {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		b, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(goldenLossesFile, append(b, '\n'), 0o644))
		return
	}
	b, err := os.ReadFile(goldenLossesFile)
	require.NoError(t, err)
	var want map[string][]float64
	require.NoError(t, json.Unmarshal(b, &want))
	require.Len(t, got, len(want))
	for name, w := range want {
		assert.InEpsilonSlice(t, w, got[name], goldenRelTol, "case %s: per-step losses", name)
	}
}
