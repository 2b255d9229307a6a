package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// BootstrapOptions configures BootstrapCI and PairedBootstrap. Start from
// DefaultBootstrapOptions.
type BootstrapOptions struct {
	Samples    int     // resamples; 1000
	Confidence float64 // two-sided level of the percentile interval; 0.95
	Seed       uint64  // seed of the PCG generator; 0 is a valid seed
	// Groups, if not nil, gives each sentence's document (any ints, one per
	// sentence): whole documents are resampled instead of sentences.
	Groups []int
	Eval   Options // how each resample is scored (micro F1)
}

// DefaultBootstrapOptions returns 1000 resamples, a 95% interval, seed 42,
// sentences as units, and the zero Options.
func DefaultBootstrapOptions() BootstrapOptions {
	return BootstrapOptions{Samples: 1000, Confidence: 0.95, Seed: 42}
}

// Validate reports an invalid field.
func (o BootstrapOptions) Validate() error {
	if o.Samples < 1 {
		return fmt.Errorf("metrics: bootstrap options: Samples %d < 1", o.Samples)
	}
	if !(o.Confidence > 0 && o.Confidence < 1) {
		return fmt.Errorf("metrics: bootstrap options: Confidence %v not in (0, 1)", o.Confidence)
	}
	return o.Eval.Validate()
}

// BootstrapResult is a point estimate with a percentile confidence interval.
type BootstrapResult struct {
	F1           float64 // micro F1 on the data as given
	Lower, Upper float64 // percentile interval of the resampled micro F1
	Units        int     // sentences or documents resampled
}

// unitCounts evaluates every unit (sentence or document) on its own and
// returns its micro counts. In Conlleval mode each sentence is scored as a
// separate conlleval run.
func unitCounts(gold [][]string, preds [][][]string, o BootstrapOptions) ([][]counts, error) {
	units := []int{}
	index := map[int]int{}
	unitOf := make([]int, len(gold))
	for i := range gold {
		g := i
		if o.Groups != nil {
			if len(o.Groups) != len(gold) {
				return nil, fmt.Errorf("metrics: bootstrap: %d groups for %d sentences", len(o.Groups), len(gold))
			}
			g = o.Groups[i]
		}
		u, ok := index[g]
		if !ok {
			u = len(units)
			index[g] = u
			units = append(units, g)
		}
		unitOf[i] = u
	}
	out := make([][]counts, len(preds))
	for s, pred := range preds {
		if len(pred) != len(gold) {
			return nil, fmt.Errorf("metrics: bootstrap: system %d: %d sentences, gold %d", s, len(pred), len(gold))
		}
		out[s] = make([]counts, len(units))
		for i := range gold {
			r, err := Evaluate(gold[i:i+1], pred[i:i+1], o.Eval)
			if err != nil {
				return nil, fmt.Errorf("metrics: bootstrap: system %d: %w", s, err)
			}
			c := &out[s][unitOf[i]]
			c.gold += r.Micro.Support
			c.pred += r.Micro.Found
			c.correct += r.Micro.Correct
		}
	}
	return out, nil
}

func microF1(c counts, zd float64) float64 {
	return f1(div(c.correct, c.pred, zd), div(c.correct, c.gold, zd))
}

// resample calls f with the summed counts of each system on every resample.
func resample(units [][]counts, o BootstrapOptions, f func(b int, sums []counts)) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x62696f62657274)) // "biobert"
	n := len(units[0])
	sums := make([]counts, len(units))
	for b := 0; b < o.Samples; b++ {
		clear(sums)
		for k := 0; k < n; k++ {
			u := rng.IntN(n)
			for s := range units {
				c := units[s][u]
				sums[s].gold += c.gold
				sums[s].pred += c.pred
				sums[s].correct += c.correct
			}
		}
		f(b, sums)
	}
}

func total(cs []counts) counts {
	var t counts
	for _, c := range cs {
		t.gold += c.gold
		t.pred += c.pred
		t.correct += c.correct
	}
	return t
}

func percentiles(v []float64, conf float64) (lo, hi float64) {
	sort.Float64s(v)
	a := (1 - conf) / 2
	return stat.Quantile(a, stat.Empirical, v, nil), stat.Quantile(1-a, stat.Empirical, v, nil)
}

// BootstrapCI estimates a confidence interval for the micro F1 of pred
// against gold by resampling sentences (or documents, see Groups) with
// replacement, Samples times, and taking the empirical (1±Confidence)/2
// quantiles (percentile bootstrap; Efron and Tibshirani 1993). The same seed
// gives the same interval.
func BootstrapCI(gold, pred [][]string, opts BootstrapOptions) (BootstrapResult, error) {
	if err := opts.Validate(); err != nil {
		return BootstrapResult{}, err
	}
	units, err := unitCounts(gold, [][][]string{pred}, opts)
	if err != nil {
		return BootstrapResult{}, err
	}
	res := BootstrapResult{Units: len(units[0])}
	zd := opts.Eval.ZeroDivision
	res.F1 = microF1(total(units[0]), zd)
	if res.Units == 0 {
		res.Lower, res.Upper = res.F1, res.F1
		return res, nil
	}
	f := make([]float64, opts.Samples)
	resample(units, opts, func(b int, s []counts) { f[b] = microF1(s[0], zd) })
	res.Lower, res.Upper = percentiles(f, opts.Confidence)
	return res, nil
}

// PairedResult compares two systems on the same gold data.
type PairedResult struct {
	F1A, F1B     float64 // micro F1 of each system
	Delta        float64 // F1A − F1B
	Lower, Upper float64 // percentile interval of the resampled delta
	// PValue is the paired bootstrap p-value of Berg-Kirkpatrick et al.
	// (2012): the fraction of resamples whose delta, in the direction of the
	// observed one, is at least twice the observed delta (1 if Delta = 0).
	PValue float64
	// WinRate is the fraction of resamples where A's F1 exceeds B's (Koehn 2004).
	WinRate float64
	Units   int
}

// PairedBootstrap tests whether systems A and B differ in micro F1 on the same
// gold data, resampling the same sentences (or documents) for both.
func PairedBootstrap(gold, predA, predB [][]string, opts BootstrapOptions) (PairedResult, error) {
	if err := opts.Validate(); err != nil {
		return PairedResult{}, err
	}
	units, err := unitCounts(gold, [][][]string{predA, predB}, opts)
	if err != nil {
		return PairedResult{}, err
	}
	zd := opts.Eval.ZeroDivision
	res := PairedResult{Units: len(units[0]),
		F1A: microF1(total(units[0]), zd), F1B: microF1(total(units[1]), zd)}
	res.Delta = res.F1A - res.F1B
	if res.Units == 0 {
		res.Lower, res.Upper, res.PValue = res.Delta, res.Delta, 1
		return res, nil
	}
	d := make([]float64, opts.Samples)
	sgn := math.Copysign(1, res.Delta)
	extreme, wins := 0, 0
	resample(units, opts, func(b int, s []counts) {
		d[b] = microF1(s[0], zd) - microF1(s[1], zd)
		if sgn*d[b] >= 2*sgn*res.Delta {
			extreme++
		}
		if d[b] > 0 {
			wins++
		}
	})
	res.PValue = float64(extreme) / float64(opts.Samples)
	if res.Delta == 0 {
		res.PValue = 1
	}
	res.WinRate = float64(wins) / float64(opts.Samples)
	res.Lower, res.Upper = percentiles(d, opts.Confidence)
	return res, nil
}
