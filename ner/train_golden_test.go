package ner

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden_losses.json from the current trainer")

// goldenLossesFile holds the per-step training losses of fixed NER runs
// (tiny model, dropout 0, demo corpus): the trainer's arithmetic must not
// change them (bit for bit on the CPU that recorded them).
const goldenLossesFile = "testdata/golden_losses.json"

// goldenRelTol is the relative tolerance of TestGoldenLosses: other CPUs'
// BLAS kernels round the last float32 bits differently (about 1e-7 after a
// dozen steps); a changed step moves the losses by far more.
const goldenRelTol = 1e-5

// TestGoldenLosses runs fixed training configurations and compares every
// step's loss, within goldenRelTol, with the losses recorded in goldenLossesFile.
func TestGoldenLosses(t *testing.T) {
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:8]), Dev: full.Dev.subset(full.Dev.Documents[:2])}
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	cases := map[string]func(o *TrainOptions){
		"accum2": func(o *TrainOptions) {
			o.Epochs, o.BatchSize, o.GradAccum = 2, 8, 2
		},
		"weighted": func(o *TrainOptions) {
			o.Epochs, o.BatchSize = 1, 16
			o.BalanceClasses, o.LabelAll = true, true
			o.MaxGradNorm = 0.5
			o.WeightDecay, o.WarmupRatio = 0, 0.3
		},
	}
	got := map[string][]float64{}
	for name, edit := range cases {
		o := fastOptions(filepath.Join(t.TempDir(), name))
		o.LogSteps = 1
		edit(&o)
		_, err := Train(context.Background(), modelDir, tok, small, o)
		require.NoError(t, err, name)
		for _, l := range readJSONL(t, filepath.Join(o.OutDir, MetricsFileName)) {
			if l["kind"] == "train" {
				got[name] = append(got[name], l["loss"].(float64))
			}
		}
		require.NotEmpty(t, got[name], name)
	}
	if *updateGolden {
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
