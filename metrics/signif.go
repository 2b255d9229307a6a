package metrics

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// rankAverage returns the 1-based ranks of v, ties given their average rank
// (scipy.stats.rankdata's "average" method), and the sizes of the tie groups.
func rankAverage(v []float64) (ranks []float64, ties []int) {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	ranks = make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		r := float64(i+1+j) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			ranks[idx[k]] = r
		}
		if j-i > 1 {
			ties = append(ties, j-i)
		}
		i = j
	}
	return ranks, ties
}

func checkFinite(what string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("metrics: %s: value %d is %v", what, i, x)
		}
	}
	return nil
}

// FriedmanResult is the outcome of Friedman.
type FriedmanResult struct {
	Statistic float64   // χ² with tie correction
	PValue    float64   // P(χ²(k−1) ≥ Statistic)
	K, N      int       // models (treatments) and blocks
	MeanRanks []float64 // each model's mean rank over the blocks (rank 1 = lowest score)
}

// Friedman tests whether k ≥ 3 related samples come from one distribution:
// scores[i][j] is model i's score on block j (for example per-fold or
// per-entity-type F1). Within each block the k scores are ranked (ties get
// their average rank); with R_i the rank sum of model i and t the sizes of
// tie groups,
//
//	χ² = (12/(n·k·(k+1)) · Σ R_i² − 3·n·(k+1)) / C,   C = 1 − Σ(t³−t)/(n·k·(k²−1))
//
// and the p-value is the χ²(k−1) survival function. This equals
// scipy.stats.friedmanchisquare(*scores) (SciPy 1.10.1). It is an error when
// k < 3, the rows differ in length, n = 0, a value is not finite, or every
// block is one tie (C = 0).
func Friedman(scores [][]float64) (FriedmanResult, error) {
	k := len(scores)
	if k < 3 {
		return FriedmanResult{}, fmt.Errorf("metrics: friedman: %d models, need at least 3", k)
	}
	n := len(scores[0])
	for i, row := range scores {
		if len(row) != n {
			return FriedmanResult{}, fmt.Errorf("metrics: friedman: model %d has %d blocks, model 0 has %d", i, len(row), n)
		}
		if err := checkFinite(fmt.Sprintf("friedman: model %d", i), row); err != nil {
			return FriedmanResult{}, err
		}
	}
	if n == 0 {
		return FriedmanResult{}, fmt.Errorf("metrics: friedman: no blocks")
	}
	sums := make([]float64, k)
	ties := 0.0
	block := make([]float64, k)
	for j := 0; j < n; j++ {
		for i := range scores {
			block[i] = scores[i][j]
		}
		r, t := rankAverage(block)
		for i := range r {
			sums[i] += r[i]
		}
		for _, c := range t {
			ties += float64(c * (c*c - 1))
		}
	}
	kf, nf := float64(k), float64(n)
	c := 1 - ties/(kf*(kf*kf-1)*nf)
	if c == 0 {
		return FriedmanResult{}, fmt.Errorf("metrics: friedman: every block is a tie")
	}
	ssbn := 0.0
	for _, s := range sums {
		ssbn += s * s
	}
	chi := (12.0/(kf*nf*(kf+1))*ssbn - 3*nf*(kf+1)) / c
	res := FriedmanResult{Statistic: chi, K: k, N: n, MeanRanks: make([]float64, k)}
	res.PValue = distuv.ChiSquared{K: kf - 1}.Survival(chi)
	for i, s := range sums {
		res.MeanRanks[i] = s / nf
	}
	return res, nil
}

// ZeroMethod says how Wilcoxon treats zero differences (SciPy's zero_method).
type ZeroMethod int

// The zero methods. The zero value is ZeroWilcox.
const (
	ZeroWilcox ZeroMethod = iota // drop zero differences
	ZeroPratt                    // rank zeros, then drop them (Pratt 1959)
	ZeroSplit                    // rank zeros and split their ranks between R+ and R−
)

// Alternative is the alternative hypothesis of a test.
type Alternative int

// The alternatives. The zero value is TwoSided.
const (
	TwoSided Alternative = iota
	Greater              // x − y is stochastically greater than 0
	Less                 // x − y is stochastically less than 0
)

// WilcoxonMethod selects how Wilcoxon computes the p-value.
type WilcoxonMethod int

// The methods. The zero value is MethodAuto.
const (
	MethodAuto   WilcoxonMethod = iota // SciPy 1.10.1's "auto": Exact if n ≤ 50, else Approx
	MethodExact                        // exact null distribution of R+ (Approx if there are zeros)
	MethodApprox                       // normal approximation
)

// WilcoxonOptions configures Wilcoxon. The zero value is SciPy's default
// (zero_method="wilcox", correction=False, alternative="two-sided",
// method="auto").
type WilcoxonOptions struct {
	ZeroMethod  ZeroMethod
	Correction  bool // continuity correction of the normal approximation
	Alternative Alternative
	Method      WilcoxonMethod
}

// Validate reports an invalid field.
func (o WilcoxonOptions) Validate() error {
	switch {
	case o.ZeroMethod < ZeroWilcox || o.ZeroMethod > ZeroSplit:
		return fmt.Errorf("metrics: wilcoxon options: ZeroMethod %d unknown", int(o.ZeroMethod))
	case o.Alternative < TwoSided || o.Alternative > Less:
		return fmt.Errorf("metrics: wilcoxon options: Alternative %d unknown", int(o.Alternative))
	case o.Method < MethodAuto || o.Method > MethodApprox:
		return fmt.Errorf("metrics: wilcoxon options: Method %d unknown", int(o.Method))
	}
	return nil
}

// WilcoxonResult is the outcome of Wilcoxon.
type WilcoxonResult struct {
	// Statistic is min(R+, R−) for TwoSided and R+ otherwise (SciPy's).
	Statistic float64
	PValue    float64
	// Z is the normal deviate when Method is MethodApprox (for TwoSided it
	// is the one computed from min(R+, R−), so it is ≤ 0), NaN otherwise.
	Z      float64
	Method WilcoxonMethod // the method used: MethodExact or MethodApprox
	N      int            // number of differences ranked (zeros dropped by ZeroWilcox)
}

// Wilcoxon is the Wilcoxon signed-rank test of the paired samples x and y
// (y nil: x holds the differences), exactly as scipy.stats.wilcoxon of SciPy
// 1.10.1 (Debian 12's python3-scipy):
//
//   - d = x − y. MethodAuto uses MethodExact when len(d) ≤ 50 (zeros
//     included) and MethodApprox otherwise; MethodExact with any zero d falls
//     back to MethodApprox. Ties do not prevent MethodExact: as in SciPy
//     1.10.1, R+ (possibly a half-integer) is truncated to an integer and the
//     tie-free distribution is used.
//   - |d| is ranked with average ranks; R+ and R− sum the ranks of positive
//     and negative d. ZeroWilcox drops zeros first (MethodApprox only, since
//     MethodExact has none); ZeroSplit adds half the zeros' rank sum to each.
//   - Exact: P over the 2^n equally likely sign patterns; two-sided
//     p = 2·min(P(R+ ≤ r), P(R+ ≥ r)), 1 at the centre, clipped to 1.
//   - Approx: with n the count of ranked values, μ = n(n+1)/4,
//     σ² = (n(n+1)(2n+1) − ½Σ(t³−t))/24 over tie groups t of the ranks (for
//     ZeroPratt, μ and σ² lose the terms of the n0 zeros, n0(n0+1)/4 and
//     n0(n0+1)(2n0+1)/24, and their ranks leave the tie groups);
//     z = (T − μ − c)/σ with the continuity correction c = ½·sign(T − μ)
//     (TwoSided), ½ (Greater) or −½ (Less) when Correction is set, else 0;
//     p = 2·Φ(−|z|), 1 − Φ(z) or Φ(z).
//
// It is an error when the lengths differ, there is no pair, a value is not
// finite, or (MethodApprox with ZeroWilcox or ZeroPratt) every d is zero.
func Wilcoxon(x, y []float64, opts WilcoxonOptions) (WilcoxonResult, error) {
	if err := opts.Validate(); err != nil {
		return WilcoxonResult{}, err
	}
	if y != nil && len(x) != len(y) {
		return WilcoxonResult{}, fmt.Errorf("metrics: wilcoxon: x has %d values, y %d", len(x), len(y))
	}
	if err := checkFinite("wilcoxon: x", x); err != nil {
		return WilcoxonResult{}, err
	}
	if err := checkFinite("wilcoxon: y", y); err != nil {
		return WilcoxonResult{}, err
	}
	d := make([]float64, len(x))
	for i := range x {
		d[i] = x[i]
		if y != nil {
			d[i] -= y[i]
		}
	}
	if len(d) == 0 {
		return WilcoxonResult{}, fmt.Errorf("metrics: wilcoxon: no pairs")
	}
	method := opts.Method
	if method == MethodAuto {
		method = MethodExact
		if len(d) > 50 {
			method = MethodApprox
		}
	}
	nZero := 0
	for _, v := range d {
		if v == 0 {
			nZero++
		}
	}
	if nZero > 0 && method == MethodExact {
		method = MethodApprox
	}
	if method == MethodApprox {
		if opts.ZeroMethod != ZeroSplit && nZero == len(d) {
			return WilcoxonResult{}, fmt.Errorf("metrics: wilcoxon: every difference is zero (use ZeroSplit)")
		}
		if opts.ZeroMethod == ZeroWilcox {
			nz := d[:0:0]
			for _, v := range d {
				if v != 0 {
					nz = append(nz, v)
				}
			}
			d = nz
		}
	}
	count := len(d)
	abs := make([]float64, count)
	for i, v := range d {
		abs[i] = math.Abs(v)
	}
	r, _ := rankAverage(abs)
	var rPlus, rMinus, rZero float64
	for i, v := range d {
		switch {
		case v > 0:
			rPlus += r[i]
		case v < 0:
			rMinus += r[i]
		default:
			rZero += r[i]
		}
	}
	if opts.ZeroMethod == ZeroSplit {
		rPlus += rZero / 2
		rMinus += rZero / 2
	}
	T := rPlus
	if opts.Alternative == TwoSided {
		T = math.Min(rPlus, rMinus)
	}
	res := WilcoxonResult{Statistic: T, Method: method, N: count, Z: math.NaN()}
	if method == MethodApprox {
		n := float64(count)
		mn := n * (n + 1) * 0.25
		se := n * (n + 1) * (2*n + 1)
		ranked := r
		if opts.ZeroMethod == ZeroPratt {
			ranked = ranked[:0:0]
			for i, v := range d {
				if v != 0 {
					ranked = append(ranked, r[i])
				}
			}
			z := float64(nZero)
			mn -= z * (z + 1) * 0.25
			se -= z * (z + 1) * (2*z + 1)
		}
		_, ties := rankAverage(ranked) // find_repeats on the ranks
		tie := 0.0
		for _, t := range ties {
			tf := float64(t)
			tie += tf * (tf*tf - 1)
		}
		se -= 0.5 * tie
		se = math.Sqrt(se / 24)
		c := 0.0
		if opts.Correction {
			switch opts.Alternative {
			case TwoSided:
				c = 0.5 * sign(T-mn)
			case Less:
				c = -0.5
			default:
				c = 0.5
			}
		}
		z := (T - mn - c) / se
		switch opts.Alternative {
		case TwoSided:
			res.PValue = 2 * distuv.UnitNormal.Survival(math.Abs(z))
		case Greater:
			res.PValue = distuv.UnitNormal.Survival(z)
		default:
			res.PValue = distuv.UnitNormal.CDF(z)
		}
		res.Z = z
		return res, nil
	}
	pmf := wilcoxonPMF(count)
	rp := int(rPlus)
	var p float64
	switch opts.Alternative {
	case TwoSided:
		if rp == (len(pmf)-1)/2 {
			p = 1
		} else {
			p = 2 * math.Min(sum(pmf[:rp+1]), sum(pmf[rp:]))
		}
	case Greater:
		p = sum(pmf[rp:])
	default:
		p = sum(pmf[:rp+1])
	}
	res.PValue = math.Min(math.Max(p, 0), 1)
	return res, nil
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// wilcoxonPMF is the null distribution of R+ for n untied, non-zero
// differences: P(R+ = r), r = 0 … n(n+1)/2 (SciPy's _get_wilcoxon_distr).
func wilcoxonPMF(n int) []float64 {
	c := []float64{1}
	for k := 1; k <= n; k++ {
		next := make([]float64, k*(k+1)/2+1)
		m := len(c)
		for i, v := range c {
			next[i] += v * 0.5
			next[len(next)-m+i] += v * 0.5
		}
		c = next
	}
	return c
}

// Adjust is a multiple-comparison correction of p-values.
type Adjust int

// The corrections. The zero value is NoAdjust.
const (
	NoAdjust   Adjust = iota
	Holm              // Holm–Bonferroni step-down
	Bonferroni        // p·m
)

// AdjustPValues corrects m p-values for multiple comparisons:
// Bonferroni min(1, m·p); Holm sorts p ascending, p'_(i) = min(1,
// max_{j ≤ i} (m − j + 1)·p_(j)) (statsmodels' multipletests "holm").
// The result is in the input's order.
func AdjustPValues(p []float64, method Adjust) ([]float64, error) {
	out := make([]float64, len(p))
	m := float64(len(p))
	switch method {
	case NoAdjust:
		copy(out, p)
	case Bonferroni:
		for i, v := range p {
			out[i] = math.Min(1, m*v)
		}
	case Holm:
		idx := make([]int, len(p))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
		run := 0.0
		for j, i := range idx {
			run = math.Max(run, math.Min(1, (m-float64(j))*p[i]))
			out[i] = run
		}
	default:
		return nil, fmt.Errorf("metrics: adjust p-values: method %d unknown", int(method))
	}
	return out, nil
}

// PostHocOptions configures PostHoc. The zero value runs SciPy's default
// Wilcoxon without correction at α = 0.05.
type PostHocOptions struct {
	Wilcoxon WilcoxonOptions
	Adjust   Adjust  // NoAdjust
	Alpha    float64 // significance level; 0 means 0.05
}

// Validate reports an invalid field.
func (o PostHocOptions) Validate() error {
	if err := o.Wilcoxon.Validate(); err != nil {
		return err
	}
	if o.Adjust < NoAdjust || o.Adjust > Bonferroni {
		return fmt.Errorf("metrics: post-hoc options: Adjust %d unknown", int(o.Adjust))
	}
	if o.Alpha < 0 || o.Alpha >= 1 || math.IsNaN(o.Alpha) {
		return fmt.Errorf("metrics: post-hoc options: Alpha %v not in [0, 1)", o.Alpha)
	}
	return nil
}

// PairResult is one post-hoc comparison of model A with model B (A < B).
type PairResult struct {
	A, B        int
	Wilcoxon    WilcoxonResult // of scores[A] against scores[B]
	PAdjusted   float64        // after the correction over all pairs
	Significant bool           // PAdjusted < Alpha
}

// PostHoc runs Wilcoxon on every pair of models (rows of scores, as for
// Friedman), in the order (0,1), (0,2), …, (1,2), …, and corrects the
// p-values over the k(k−1)/2 pairs.
func PostHoc(scores [][]float64, opts PostHocOptions) ([]PairResult, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	alpha := opts.Alpha
	if alpha == 0 {
		alpha = 0.05
	}
	var out []PairResult
	var ps []float64
	for a := range scores {
		for b := a + 1; b < len(scores); b++ {
			w, err := Wilcoxon(scores[a], scores[b], opts.Wilcoxon)
			if err != nil {
				return nil, fmt.Errorf("metrics: post-hoc: models %d and %d: %w", a, b, err)
			}
			out = append(out, PairResult{A: a, B: b, Wilcoxon: w})
			ps = append(ps, w.PValue)
		}
	}
	adj, err := AdjustPValues(ps, opts.Adjust)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].PAdjusted = adj[i]
		out[i].Significant = adj[i] < alpha
	}
	return out, nil
}
