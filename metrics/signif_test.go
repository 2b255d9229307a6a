package metrics_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	m "github.com/biobertpt-go/biobertpt/metrics"
)

func TestFriedmanSciPy(t *testing.T) {
	for _, tc := range scipyFriedman {
		t.Run(tc.name, func(t *testing.T) {
			r, err := m.Friedman(scipyFriedmanInputs[tc.name])
			require.NoError(t, err)
			assert.InDelta(t, tc.stat, r.Statistic, 1e-9*math.Max(1, tc.stat))
			assert.InDelta(t, tc.p, r.PValue, 1e-9)
		})
	}
}

func TestFriedmanRanks(t *testing.T) {
	r, err := m.Friedman(scipyFriedmanInputs["F1"])
	require.NoError(t, err)
	// Ranks per block (low = 1): 2 1 3, 1 2 3, 2 1 3, 2 1 3, 1 2 3.
	assert.InDeltaSlice(t, []float64{1.6, 1.4, 3}, r.MeanRanks, 1e-15)
	assert.Equal(t, 3, r.K)
	assert.Equal(t, 5, r.N)
}

func TestFriedmanErrors(t *testing.T) {
	for name, in := range map[string][][]float64{
		"two models": {{1, 2}, {2, 3}},
		"ragged":     {{1, 2}, {2, 3}, {1}},
		"no blocks":  {{}, {}, {}},
		"all tied":   {{1, 2}, {1, 2}, {1, 2}},
		"not finite": {{1, math.NaN()}, {2, 3}, {1, 1}},
	} {
		_, err := m.Friedman(in)
		assert.Error(t, err, name)
	}
}

var zeroMethods = map[string]m.ZeroMethod{"wilcox": m.ZeroWilcox, "pratt": m.ZeroPratt, "zsplit": m.ZeroSplit}
var alternatives = map[string]m.Alternative{"two-sided": m.TwoSided, "greater": m.Greater, "less": m.Less}
var methods = map[string]m.WilcoxonMethod{"auto": m.MethodAuto, "approx": m.MethodApprox, "exact": m.MethodExact}

func TestWilcoxonSciPy(t *testing.T) {
	for _, tc := range scipyWilcoxon {
		name := fmt.Sprintf("%s/%s/%s/%s/corr=%v", tc.name, tc.zeroMethod, tc.alternative, tc.method, tc.correction)
		t.Run(name, func(t *testing.T) {
			in := scipyWilcoxonInputs[tc.name]
			r, err := m.Wilcoxon(in[0], in[1], m.WilcoxonOptions{
				ZeroMethod: zeroMethods[tc.zeroMethod], Correction: tc.correction,
				Alternative: alternatives[tc.alternative], Method: methods[tc.method]})
			require.NoError(t, err)
			assert.InDelta(t, tc.stat, r.Statistic, 1e-9)
			assert.InDelta(t, tc.p, r.PValue, 1e-9)
			// SciPy 1.10.1 reports zstatistic only when method="approx" is
			// asked for; "auto" is exact for W1 and W2 (n ≤ 50, no zeros),
			// approximate for W3 (zeros) and W4 (n = 60).
			want := m.MethodApprox
			if tc.method == "auto" && (tc.name == "W1" || tc.name == "W2") {
				want = m.MethodExact
			}
			assert.Equal(t, want, r.Method)
			if tc.method == "approx" {
				assert.InDelta(t, tc.z, r.Z, 1e-9)
			}
			assert.Equal(t, want == m.MethodExact, math.IsNaN(r.Z))
		})
	}
}

func TestWilcoxonErrors(t *testing.T) {
	_, err := m.Wilcoxon([]float64{1, 2}, []float64{1}, m.WilcoxonOptions{})
	assert.EqualError(t, err, "metrics: wilcoxon: x has 2 values, y 1")
	_, err = m.Wilcoxon(nil, nil, m.WilcoxonOptions{})
	assert.Error(t, err)
	_, err = m.Wilcoxon([]float64{1, 2}, []float64{1, 2}, m.WilcoxonOptions{})
	assert.ErrorContains(t, err, "every difference is zero")
	r, err := m.Wilcoxon([]float64{1, 2}, []float64{1, 2}, m.WilcoxonOptions{ZeroMethod: m.ZeroSplit})
	require.NoError(t, err)
	assert.Equal(t, 1.0, r.PValue)
	_, err = m.Wilcoxon([]float64{1}, nil, m.WilcoxonOptions{Alternative: 9})
	assert.Error(t, err)
}

func TestAdjustPValues(t *testing.T) {
	p := []float64{0.01, 0.04, 0.03, 0.5}
	holm, err := m.AdjustPValues(p, m.Holm)
	require.NoError(t, err)
	// sorted 0.01, 0.03, 0.04, 0.5 → 4·0.01, 3·0.03, max(0.09, 2·0.04), 1·0.5.
	assert.InDeltaSlice(t, []float64{0.04, 0.09, 0.09, 0.5}, holm, 1e-15)
	bonf, err := m.AdjustPValues(p, m.Bonferroni)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float64{0.04, 0.16, 0.12, 1}, bonf, 1e-15)
	_, err = m.AdjustPValues(p, 5)
	assert.Error(t, err)
}

func TestPostHoc(t *testing.T) {
	scores := scipyFriedmanInputs["F1"]
	res, err := m.PostHoc(scores, m.PostHocOptions{Adjust: m.Bonferroni})
	require.NoError(t, err)
	require.Len(t, res, 3)
	for i, pair := range [][2]int{{0, 1}, {0, 2}, {1, 2}} {
		assert.Equal(t, pair, [2]int{res[i].A, res[i].B})
		w, err := m.Wilcoxon(scores[pair[0]], scores[pair[1]], m.WilcoxonOptions{})
		require.NoError(t, err)
		assert.Equal(t, w.Statistic, res[i].Wilcoxon.Statistic)
		assert.Equal(t, w.PValue, res[i].Wilcoxon.PValue)
		assert.Equal(t, math.Min(1, 3*w.PValue), res[i].PAdjusted)
		assert.Equal(t, res[i].PAdjusted < 0.05, res[i].Significant)
	}
	// Model 2 beats model 0 on all 5 blocks: exact two-sided p = 2/32.
	assert.InDelta(t, 0.0625, res[1].Wilcoxon.PValue, 1e-15)
	_, err = m.PostHoc(scores, m.PostHocOptions{Alpha: 2})
	assert.Error(t, err)
}
