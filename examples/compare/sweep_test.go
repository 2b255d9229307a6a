package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/metrics"
)

// writeSweep writes a seed sweep's directory as train-ner -seeds does:
// seed-N result directories and a summary.json listing them.
func writeSweep(t *testing.T, dir string, gold [][]string, q float64, seeds []int64, predSeed uint64) {
	t.Helper()
	runs := ""
	for i, s := range seeds {
		writeResult(t, filepath.Join(dir, fmt.Sprintf("seed-%d", s)), "", "", gold, synthPred(gold, q, predSeed+uint64(s)), true)
		if i > 0 {
			runs += ","
		}
		runs += fmt.Sprintf(`{"seed":%d,"dir":"seed-%d"}`, s, s)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, SweepName), []byte(`{"seeds":[1,2,3],"runs":[`+runs+`]}`), 0o644))
}

// TestSweepResults: a sweep directory is one model whose table scores are
// the seeds' means; the Wilcoxon test pairs per-seed per-type F1 by
// (seed, type), and the bootstrap pairs the seeds' predictions.
func TestSweepResults(t *testing.T) {
	root := t.TempDir()
	gold := synthGold(80, 5)
	seeds := []int64{1, 2, 3}
	good, bad := filepath.Join(root, "demo", "pretrained"), filepath.Join(root, "demo", "scratch")
	writeSweep(t, good, gold, 0.9, seeds, 100)
	writeSweep(t, bad, gold, 0.7, seeds, 200)

	r, err := loadResult(good)
	require.NoError(t, err)
	assert.Equal(t, "pretrained", r.Model)
	assert.Equal(t, "demo", r.Corpus)
	assert.Equal(t, seeds, r.Seeds)
	require.Len(t, r.PerSeed, 3)
	mean := 0.0
	for _, sr := range r.PerSeed {
		mean += sr.Report.Overall.F1 / 3
	}
	assert.InDelta(t, mean, r.Report.Overall.F1, 1e-12)
	assert.Len(t, r.Gold, 3*len(gold), "the seeds' predictions one after the other")

	rb, err := loadResult(bad)
	require.NoError(t, err)
	a, err := analyze([]*Result{r, rb}, testOptions())
	require.NoError(t, err)
	ca := a.Per[0]
	require.Len(t, ca.Samples[0], 3*len(ca.Types))
	assert.Equal(t, r.PerSeed[1].Report.PerType[ca.Types[0]].F1, ca.Samples[0][len(ca.Types)], "seed 2's first type")
	w, err := metrics.Wilcoxon(ca.Samples[0], ca.Samples[1], metrics.WilcoxonOptions{})
	require.NoError(t, err)
	require.Len(t, ca.Pairs, 1)
	assert.Equal(t, w.PValue, ca.Pairs[0].P)
	require.NotNil(t, ca.Pairs[0].Boot)
	assert.Greater(t, ca.Pairs[0].Boot.Delta, 0.0)
	assert.Contains(t, a.markdown(nil), "(seed, entity type) pairs (3 seeds × 10 types)")

	// A sweep beside a single run: the tests pair the seed means by type.
	single := filepath.Join(root, "demo", "single")
	writeResult(t, single, "", "", gold, synthPred(gold, 0.8, 300), true)
	rs, err := loadResult(single)
	require.NoError(t, err)
	a, err = analyze([]*Result{r, rs}, testOptions())
	require.NoError(t, err)
	assert.Equal(t, typeBlocks, a.Per[0].Blocks)
	assert.Len(t, a.Per[0].Samples[0], len(a.Per[0].Types))

	// Named by the first run's results.json (ner-clinpt -seeds).
	writeResult(t, filepath.Join(bad, "seed-1"), "mBERT", "CLINpt", gold, synthPred(gold, 0.7, 201), true)
	rb, err = loadResult(bad)
	require.NoError(t, err)
	assert.Equal(t, [2]string{"mBERT", "CLINpt"}, [2]string{rb.Model, rb.Corpus})

	require.NoError(t, os.WriteFile(filepath.Join(bad, SweepName), []byte(`{"seeds":[1],"runs":[{"seed":9,"dir":"seed-9"}]}`), 0o644))
	_, err = loadResult(bad)
	assert.ErrorContains(t, err, "seed 9")
}
