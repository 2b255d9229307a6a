package ner_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/ner"
)

// TestSummarizeSweep: mean, sample sd, min–max per type and micro/macro
// from three runs' reports; the best seed by dev F1; a resumed run's
// repeated epoch line counts once.
func TestSummarizeSweep(t *testing.T) {
	dir := t.TempDir()
	runs := []struct {
		seed    int64
		report  string
		metrics string
	}{
		{1, `{"overall":{"precision":0.8,"recall":0.6,"f1":0.7,"found_gold":10},"per_type":{"A":{"precision":1,"recall":0.5,"f1":0.6,"support":6},"B":{"precision":0.5,"recall":1,"f1":0.8,"support":4}}}`,
			`{"step":1,"kind":"epoch","epoch":1,"dev_f1":0.5,"seconds":2}` + "\n" + `{"step":2,"kind":"epoch","epoch":2,"dev_f1":0.9,"seconds":3}` + "\n"},
		{2, `{"overall":{"precision":0.9,"recall":0.7,"f1":0.8,"found_gold":10},"per_type":{"A":{"precision":1,"recall":0.5,"f1":0.7,"support":6},"B":{"precision":0.5,"recall":1,"f1":0.9,"support":4}}}`,
			`{"step":1,"kind":"train","loss":3}` + "\n" + `{"step":1,"kind":"epoch","epoch":1,"dev_f1":0.7,"seconds":2}` + "\n" + `{"step":1,"kind":"epoch","epoch":1,"dev_f1":0.95,"seconds":4}` + "\n"},
		{3, `{"overall":{"precision":1,"recall":0.8,"f1":0.9,"found_gold":10},"per_type":{"A":{"precision":1,"recall":0.5,"f1":0.8,"support":6}}}`,
			`{"step":1,"kind":"epoch","epoch":1,"dev_f1":0.6,"seconds":1}` + "\n"},
	}
	for _, r := range runs {
		d := ner.SeedDir(dir, r.seed)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, ner.TestReportJSONName), []byte(r.report), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(d, ner.MetricsFileName), []byte(r.metrics), 0o644))
	}
	s, err := ner.SummarizeSweep(dir, []int64{1, 2, 3}, 12.5)
	require.NoError(t, err)
	assert.Equal(t, []string{"A", "B"}, s.Types)
	assert.InDelta(t, 0.8, s.Micro.F1.Mean, 1e-12)
	assert.InDelta(t, 0.1, s.Micro.F1.SD, 1e-12) // sample sd of 0.7, 0.8, 0.9
	assert.Equal(t, []float64{0.7, 0.8, 0.9}, s.Micro.F1.Values)
	assert.InDelta(t, 0.7, s.PerType["A"].F1.Mean, 1e-12)
	assert.InDelta(t, (0.8+0.9+0)/3, s.PerType["B"].F1.Mean, 1e-12, "a type missing from a run counts 0")
	assert.Equal(t, 0.0, s.PerType["B"].F1.Min)
	// macro: (0.6+0.8)/2, (0.7+0.9)/2, 0.8/1
	assert.InDelta(t, (0.7+0.8+0.8)/3, s.Macro.F1.Mean, 1e-12)
	assert.Equal(t, 6, s.PerType["A"].Support)
	assert.Equal(t, int64(2), s.BestSeed)
	assert.Equal(t, "seed-2/best", s.BestModel)
	assert.Equal(t, 4.0, s.Runs[1].Seconds, "the resumed epoch's last line")
	assert.Equal(t, 5.0, s.Runs[0].Seconds)
	assert.Equal(t, 2, s.Runs[0].BestEpoch)
	require.NoError(t, s.WriteFiles(dir))
	md, err := os.ReadFile(filepath.Join(dir, ner.SweepSummaryMDName))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| **micro** | 10 | 0.9000 ± 0.1000 | 0.7000 ± 0.1000 | 0.8000 ± 0.1000 | 0.7000–0.9000 |")
	assert.False(t, math.IsNaN(s.Macro.Recall.SD))

	_, err = ner.SummarizeSweep(dir, []int64{1, 4}, 0)
	assert.ErrorContains(t, err, "seed 4")
	seeds, err := ner.ParseSeeds(" 1, 2,3")
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3}, seeds)
	_, err = ner.ParseSeeds("1,1")
	assert.ErrorContains(t, err, "seed 1 twice")
	_, err = ner.ParseSeeds("1,x")
	assert.ErrorContains(t, err, `"x"`)
}
