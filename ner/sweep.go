package ner

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
)

// Files of a seed sweep's directory besides the runs' SeedDir directories.
const (
	SweepSummaryName   = "summary.json" // SweepSummary
	SweepSummaryMDName = "summary.md"   // the same as Markdown tables
)

// SeedDir is the directory of seed's run in a sweep directory: dir/seed-N.
func SeedDir(dir string, seed int64) string {
	return filepath.Join(dir, "seed-"+strconv.FormatInt(seed, 10))
}

// ParseSeeds reads a comma-separated list of distinct seeds ("1,2,3").
func ParseSeeds(s string) ([]int64, error) {
	var seeds []int64
	seen := map[int64]bool{}
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("ner: seeds %q: %q is not an integer", s, f)
		}
		if seen[v] {
			return nil, fmt.Errorf("ner: seeds %q: seed %d twice", s, v)
		}
		seen[v] = true
		seeds = append(seeds, v)
	}
	return seeds, nil
}

// Stat summarises one score over the seeds of a sweep: the mean, the
// sample standard deviation sd = √(Σ(x−mean)²/(n−1)) (0 for one seed),
// the smallest and largest value, and the values in seed order.
type Stat struct {
	Mean   float64   `json:"mean"`
	SD     float64   `json:"sd"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values"`
}

// newStat summarises xs (at least one value).
func newStat(xs []float64) Stat {
	s := Stat{Min: math.Inf(1), Max: math.Inf(-1), Values: xs}
	for _, x := range xs {
		s.Mean += x
		s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
	}
	s.Mean /= float64(len(xs))
	if len(xs) > 1 {
		for _, x := range xs {
			s.SD += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(s.SD / float64(len(xs)-1))
	}
	return s
}

// ScoreStats are precision, recall and F1 over a sweep's seeds. Support is
// the gold entity count of the first seed's test split.
type ScoreStats struct {
	Precision Stat `json:"precision"`
	Recall    Stat `json:"recall"`
	F1        Stat `json:"f1"`
	Support   int  `json:"support"`
}

// SeedRun is one run of a sweep.
type SeedRun struct {
	Seed int64  `json:"seed"`
	Dir  string `json:"dir"` // relative to the sweep directory
	// BestDevF1 is the best epoch's dev micro F1 (-1 without dev
	// evaluation) and BestEpoch that epoch.
	BestDevF1 float64 `json:"best_dev_f1"`
	BestEpoch int     `json:"best_epoch"`
	// Test micro scores of the run's best model.
	TestPrecision float64 `json:"test_precision"`
	TestRecall    float64 `json:"test_recall"`
	TestF1        float64 `json:"test_f1"`
	// Seconds is the training time (the epochs' seconds summed).
	Seconds float64 `json:"seconds"`
}

// SweepSummary is summary.json: the test scores of a seed sweep, one run
// per seed in SeedDir(dir, seed).
type SweepSummary struct {
	Seeds []int64   `json:"seeds"`
	Runs  []SeedRun `json:"runs"`
	// Types are the entity types of any run's test report, sorted.
	Types []string `json:"types"`
	// PerType holds each type's scores; a run whose report lacks the type
	// counts 0. Micro are the runs' micro averages; Macro the runs'
	// unweighted means over their report's types (metrics.Report.Macro).
	PerType map[string]ScoreStats `json:"per_type"`
	Micro   ScoreStats            `json:"micro"`
	Macro   ScoreStats            `json:"macro"`
	// BestSeed is the run with the highest best dev F1 (test F1 when no run
	// evaluated a dev split; the lowest seed on ties), BestModel its model
	// directory relative to the sweep directory.
	BestSeed  int64  `json:"best_seed"`
	BestModel string `json:"best_model"`
	// Seconds is the sweep's wall-clock time, as the caller measured it.
	Seconds float64 `json:"total_seconds"`
}

// reportJSON is the metrics JSON schema of a test report.
type reportJSON struct {
	Overall struct {
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		F1        float64 `json:"f1"`
		FoundGold int     `json:"found_gold"`
	} `json:"overall"`
	PerType map[string]struct {
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		F1        float64 `json:"f1"`
		Support   int     `json:"support"`
	} `json:"per_type"`
}

// SummarizeSweep reads the test report (TestReportJSONName) and the epoch
// lines of metrics.jsonl of every seed's run in dir and summarises them;
// seconds is the sweep's total time.
func SummarizeSweep(dir string, seeds []int64, seconds float64) (*SweepSummary, error) {
	if len(seeds) == 0 {
		return nil, errors.New("ner: sweep summary: no seeds")
	}
	s := &SweepSummary{Seeds: seeds, PerType: map[string]ScoreStats{}, Seconds: seconds}
	reps := make([]reportJSON, len(seeds))
	types := map[string]bool{}
	for i, seed := range seeds {
		sd := SeedDir(dir, seed)
		path := filepath.Join(sd, TestReportJSONName)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ner: sweep summary: seed %d: %w", seed, err)
		}
		if err := json.Unmarshal(b, &reps[i]); err != nil {
			return nil, fmt.Errorf("ner: sweep summary: %s: %w", path, err)
		}
		r := SeedRun{Seed: seed, Dir: filepath.Base(sd), BestDevF1: -1,
			TestPrecision: reps[i].Overall.Precision, TestRecall: reps[i].Overall.Recall, TestF1: reps[i].Overall.F1}
		if err := readEpochs(filepath.Join(sd, MetricsFileName), &r); err != nil {
			return nil, err
		}
		s.Runs = append(s.Runs, r)
		for t := range reps[i].PerType {
			types[t] = true
		}
	}
	for t := range types {
		s.Types = append(s.Types, t)
	}
	sort.Strings(s.Types)
	n := len(seeds)
	collect := func(f func(i int) (p, r, f1 float64)) ScoreStats {
		p, r, f1 := make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range seeds {
			p[i], r[i], f1[i] = f(i)
		}
		return ScoreStats{Precision: newStat(p), Recall: newStat(r), F1: newStat(f1)}
	}
	for _, t := range s.Types {
		st := collect(func(i int) (float64, float64, float64) {
			ts := reps[i].PerType[t]
			return ts.Precision, ts.Recall, ts.F1
		})
		st.Support = reps[0].PerType[t].Support
		s.PerType[t] = st
	}
	s.Micro = collect(func(i int) (float64, float64, float64) {
		o := reps[i].Overall
		return o.Precision, o.Recall, o.F1
	})
	s.Micro.Support = reps[0].Overall.FoundGold
	s.Macro = collect(func(i int) (p, r, f float64) {
		k := float64(len(reps[i].PerType))
		for _, ts := range reps[i].PerType {
			p, r, f = p+ts.Precision/k, r+ts.Recall/k, f+ts.F1/k
		}
		return p, r, f
	})
	s.Macro.Support = s.Micro.Support
	best := 0
	score := func(r SeedRun) float64 {
		if r.BestDevF1 >= 0 {
			return r.BestDevF1
		}
		return r.TestF1
	}
	for i, r := range s.Runs {
		if score(r) > score(s.Runs[best]) || (score(r) == score(s.Runs[best]) && r.Seed < s.Runs[best].Seed) {
			best = i
		}
	}
	s.BestSeed = s.Runs[best].Seed
	s.BestModel = filepath.ToSlash(filepath.Join(s.Runs[best].Dir, BestDirName))
	return s, nil
}

// readEpochs fills r's best dev F1, best epoch and training seconds from
// the "epoch" lines of a run's metrics.jsonl (the last line of an epoch
// counts: a resumed run may repeat one).
func readEpochs(path string, r *SeedRun) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("ner: sweep summary: %w", err)
	}
	defer f.Close()
	type line struct {
		Kind    string   `json:"kind"`
		Epoch   float64  `json:"epoch"`
		DevF1   *float64 `json:"dev_f1"`
		Seconds float64  `json:"seconds"`
	}
	epochs := map[int]line{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("ner: sweep summary: %s:%d: %w", path, n, err)
		}
		if l.Kind == "epoch" {
			epochs[int(l.Epoch)] = l
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("ner: sweep summary: %s: %w", path, err)
	}
	for e, l := range epochs {
		r.Seconds += l.Seconds
		if l.DevF1 != nil && (*l.DevF1 > r.BestDevF1 || (*l.DevF1 == r.BestDevF1 && e < r.BestEpoch)) {
			r.BestDevF1, r.BestEpoch = *l.DevF1, e
		}
	}
	return nil
}

// Markdown renders the summary as Markdown: the per-type, micro and macro
// table (mean ± sd, min–max) and the runs.
func (s *SweepSummary) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Seed sweep: %d runs (seeds %s)\n\n", len(s.Seeds), joinSeeds(s.Seeds))
	b.WriteString("Test scores, mean ± sample sd (min–max) over the seeds.\n\n")
	b.WriteString("| type | support | precision | recall | F1 | F1 min–max |\n|---|---:|---|---|---|---|\n")
	row := func(name string, st ScoreStats) {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %.4f–%.4f |\n", name, st.Support,
			pm(st.Precision), pm(st.Recall), pm(st.F1), st.F1.Min, st.F1.Max)
	}
	for _, t := range s.Types {
		row(t, s.PerType[t])
	}
	row("**micro**", s.Micro)
	row("**macro**", s.Macro)
	b.WriteString("\n| seed | best epoch | dev F1 | test P | test R | test F1 | seconds |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range s.Runs {
		dev := "–"
		if r.BestDevF1 >= 0 {
			dev = fmt.Sprintf("%.4f", r.BestDevF1)
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %.4f | %.4f | %.4f | %.1f |\n", r.Seed, r.BestEpoch, dev, r.TestPrecision, r.TestRecall, r.TestF1, r.Seconds)
	}
	fmt.Fprintf(&b, "\nBest seed (by dev F1): %d, model `%s`. Total time %.1f s.\n", s.BestSeed, s.BestModel, s.Seconds)
	return b.String()
}

func pm(s Stat) string { return fmt.Sprintf("%.4f ± %.4f", s.Mean, s.SD) }

func joinSeeds(seeds []int64) string {
	parts := make([]string, len(seeds))
	for i, s := range seeds {
		parts[i] = strconv.FormatInt(s, 10)
	}
	return strings.Join(parts, ",")
}

// WriteFiles writes summary.json and summary.md into dir, both or neither
// (atomicfile.WriteFiles).
func (s *SweepSummary) WriteFiles(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("ner: sweep summary: %w", err)
	}
	if err := atomicfile.WriteFiles(
		atomicfile.File{Path: filepath.Join(dir, SweepSummaryName), Data: append(b, '\n')},
		atomicfile.File{Path: filepath.Join(dir, SweepSummaryMDName), Data: []byte(s.Markdown())},
	); err != nil {
		return fmt.Errorf("ner: sweep summary: %w", err)
	}
	return nil
}
