package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/metrics"
)

// Options configures the analysis.
type Options struct {
	Bootstrap metrics.BootstrapOptions // resampling of sentences for the CIs and paired tests
	Alpha     float64                  // significance level; 0.05
	Adjust    metrics.Adjust           // multiple-comparison correction; Holm
}

// CI is an F1 with a bootstrap confidence interval; OK is false when the
// result directory had no predictions to resample.
type CI struct {
	F1, Lower, Upper float64
	OK               bool
}

// Pair compares models A and B (indices into CorpusAnalysis.Models) on one
// corpus.
type Pair struct {
	A, B int
	// MeanDelta is the mean over entity types of F1(A) − F1(B).
	MeanDelta float64
	// Wilcoxon signed-rank test over the per-type F1s (the paired samples
	// are the entity types), p corrected over all pairs.
	W, P, PAdj float64
	Sig        bool
	Note       string // why the test could not run, if it could not
	// Boot is the paired bootstrap test of micro F1 (nil without
	// predictions on identical gold data), p corrected over all pairs.
	Boot *BootPair
}

// BootPair is a paired bootstrap comparison of micro F1.
type BootPair struct {
	Delta, Lower, Upper float64
	P, PAdj             float64
	Sig                 bool
}

// CorpusAnalysis is everything computed for one corpus.
type CorpusAnalysis struct {
	Corpus string
	Models []*Result
	Types  []string    // entity types with gold support in any model's report
	F1     [][]float64 // [model][type] per-type F1 from the reports (0 if absent)
	// Samples are the tests' paired samples, [model][block]: F1 when a
	// block is an entity type, or one value per (seed, type) when every
	// model is a sweep over the same seeds; Blocks says which.
	Samples [][]float64
	Blocks  string
	TypeCI  [][]CI // [model][type]
	Micro   []CI   // [model] micro F1 (from the report) and its CI
	// Friedman over models × entity types (k ≥ 3 models); FriedmanNote says
	// why it is missing otherwise.
	Friedman     *metrics.FriedmanResult
	FriedmanNote string
	Pairs        []Pair
}

// Analysis is the comparison of every result.
type Analysis struct {
	Corpora []string // in order of first appearance
	Models  []string // in order of first appearance
	ByKey   map[[2]string]*Result
	Per     []*CorpusAnalysis // one per corpus, in Corpora's order
	Options Options
}

// onlyType keeps the tags of type t and turns the others into O (for B/I
// tags, conlleval's chunks of type t are unchanged by this).
func onlyType(tags [][]string, t string) [][]string {
	out := make([][]string, len(tags))
	for i, s := range tags {
		out[i] = make([]string, len(s))
		for j, tag := range s {
			if _, typ, ok := strings.Cut(tag, "-"); ok && typ == t {
				out[i][j] = tag
			} else {
				out[i][j] = "O"
			}
		}
	}
	return out
}

func sameGold(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

// analyze groups the results by corpus and computes tables and tests.
func analyze(results []*Result, o Options) (*Analysis, error) {
	a := &Analysis{ByKey: map[[2]string]*Result{}, Options: o}
	byCorpus := map[string]*CorpusAnalysis{}
	for _, r := range results {
		key := [2]string{r.Model, r.Corpus}
		if prev, dup := a.ByKey[key]; dup {
			return nil, fmt.Errorf("model %q on corpus %q twice: %s and %s", r.Model, r.Corpus, prev.Dir, r.Dir)
		}
		a.ByKey[key] = r
		if !slices.Contains(a.Models, r.Model) {
			a.Models = append(a.Models, r.Model)
		}
		ca := byCorpus[r.Corpus]
		if ca == nil {
			ca = &CorpusAnalysis{Corpus: r.Corpus}
			byCorpus[r.Corpus] = ca
			a.Corpora = append(a.Corpora, r.Corpus)
			a.Per = append(a.Per, ca)
		}
		ca.Models = append(ca.Models, r)
	}
	for _, ca := range a.Per {
		if err := ca.compute(o); err != nil {
			return nil, fmt.Errorf("corpus %s: %w", ca.Corpus, err)
		}
	}
	return a, nil
}

func (ca *CorpusAnalysis) compute(o Options) error {
	types := map[string]bool{}
	for _, r := range ca.Models {
		for _, t := range r.Types() {
			types[t] = true
		}
	}
	for t := range types {
		ca.Types = append(ca.Types, t)
	}
	sort.Strings(ca.Types)

	k := len(ca.Models)
	ca.F1 = make([][]float64, k)
	ca.TypeCI = make([][]CI, k)
	ca.Micro = make([]CI, k)
	for i, r := range ca.Models {
		ca.F1[i] = make([]float64, len(ca.Types))
		ca.TypeCI[i] = make([]CI, len(ca.Types))
		for j, t := range ca.Types {
			ca.F1[i][j] = r.Report.PerType[t].F1
			ca.TypeCI[i][j] = CI{F1: ca.F1[i][j]}
		}
		ca.Micro[i] = CI{F1: r.Report.Overall.F1}
		if r.Gold == nil {
			continue
		}
		res, err := metrics.BootstrapCI(r.Gold, r.Pred, o.Bootstrap)
		if err != nil {
			return fmt.Errorf("model %s: %w", r.Model, err)
		}
		ca.Micro[i] = CI{F1: ca.Micro[i].F1, Lower: res.Lower, Upper: res.Upper, OK: true}
		for j, t := range ca.Types {
			res, err := metrics.BootstrapCI(onlyType(r.Gold, t), onlyType(r.Pred, t), o.Bootstrap)
			if err != nil {
				return fmt.Errorf("model %s, type %s: %w", r.Model, t, err)
			}
			ca.TypeCI[i][j] = CI{F1: ca.F1[i][j], Lower: res.Lower, Upper: res.Upper, OK: true}
		}
	}

	ca.Samples, ca.Blocks = ca.samples()
	switch {
	case k < 3:
		ca.FriedmanNote = fmt.Sprintf("needs at least 3 models, have %d", k)
	case len(ca.Types) < 2:
		ca.FriedmanNote = fmt.Sprintf("needs at least 2 entity types, have %d", len(ca.Types))
	default:
		fr, err := metrics.Friedman(ca.Samples)
		if err != nil {
			ca.FriedmanNote = err.Error()
		} else {
			ca.Friedman = &fr
		}
	}
	return ca.pairs(o)
}

// pairs runs the Wilcoxon post-tests (and the paired bootstraps) over every
// pair of models and corrects each family of p-values.
func (ca *CorpusAnalysis) pairs(o Options) error {
	var wp, bp []float64
	var wi, bi []int
	for a := range ca.Models {
		for b := a + 1; b < len(ca.Models); b++ {
			p := Pair{A: a, B: b, W: math.NaN(), P: math.NaN(), PAdj: math.NaN()}
			d := make([]float64, len(ca.Samples[a]))
			for j := range d {
				d[j] = ca.Samples[a][j] - ca.Samples[b][j]
			}
			if len(d) > 0 {
				p.MeanDelta = sum(d) / float64(len(d))
			}
			allZero := !slices.ContainsFunc(d, func(x float64) bool { return x != 0 })
			switch {
			case len(d) == 0:
				p.Note = "no entity types"
			case allZero:
				p.W, p.P, p.Note = 0, 1, "identical per-type F1"
			default:
				w, err := metrics.Wilcoxon(ca.Samples[a], ca.Samples[b], metrics.WilcoxonOptions{})
				if err != nil {
					p.Note = err.Error()
				} else {
					p.W, p.P = w.Statistic, w.PValue
				}
			}
			ra, rb := ca.Models[a], ca.Models[b]
			if ra.Gold != nil && rb.Gold != nil && sameGold(ra.Gold, rb.Gold) {
				res, err := metrics.PairedBootstrap(ra.Gold, ra.Pred, rb.Pred, o.Bootstrap)
				if err != nil {
					return fmt.Errorf("paired bootstrap %s vs %s: %w", ra.Model, rb.Model, err)
				}
				p.Boot = &BootPair{Delta: res.Delta, Lower: res.Lower, Upper: res.Upper, P: res.PValue}
			}
			ca.Pairs = append(ca.Pairs, p)
			if !math.IsNaN(p.P) {
				wp, wi = append(wp, p.P), append(wi, len(ca.Pairs)-1)
			}
			if p.Boot != nil {
				bp, bi = append(bp, p.Boot.P), append(bi, len(ca.Pairs)-1)
			}
		}
	}
	adj, err := metrics.AdjustPValues(wp, o.Adjust)
	if err != nil {
		return err
	}
	for n, i := range wi {
		ca.Pairs[i].PAdj = adj[n]
		ca.Pairs[i].Sig = adj[n] < o.Alpha
	}
	adj, err = metrics.AdjustPValues(bp, o.Adjust)
	if err != nil {
		return err
	}
	for n, i := range bi {
		ca.Pairs[i].Boot.PAdj = adj[n]
		ca.Pairs[i].Boot.Sig = adj[n] < o.Alpha
	}
	return nil
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}
