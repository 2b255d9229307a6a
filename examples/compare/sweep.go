package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// SweepName is the summary file of a seed sweep's directory (train-ner
// -seeds: OUT/summary.json, one run per seed in OUT/seed-N).
const SweepName = "summary.json"

// sweepFile is the part of summary.json compare reads.
type sweepFile struct {
	Seeds []int64 `json:"seeds"`
	Runs  []struct {
		Seed int64  `json:"seed"`
		Dir  string `json:"dir"`
	} `json:"runs"`
}

// loadSweep reads a seed sweep's directory as one model's result: each
// seed's run is read as a result directory into PerSeed; Report holds the
// per-type and micro precision, recall and F1 averaged over the seeds (the
// supports of the first seed); Gold and Pred are the seeds' predictions one
// after the other (nil unless every run has them), so that bootstrap
// resamples (seed, sentence) pairs and pairs them across models by seed. It
// returns ok false when dir holds no summary.json.
func loadSweep(dir string) (r *Result, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, SweepName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("result %s: %w", dir, err)
	}
	var sf sweepFile
	if err := json.Unmarshal(b, &sf); err != nil {
		return nil, true, fmt.Errorf("result %s: %s: %w", dir, SweepName, err)
	}
	if len(sf.Runs) == 0 {
		return nil, true, fmt.Errorf("result %s: %s lists no runs", dir, SweepName)
	}
	// The sweep's results.json, else its first run's (ner-clinpt -seeds
	// writes one per run).
	var m Manifest
	for _, p := range []string{filepath.Join(dir, ManifestName), filepath.Join(dir, sf.Runs[0].Dir, ManifestName)} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, true, fmt.Errorf("result %s: %w", p, err)
		}
		break
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, true, fmt.Errorf("result %s: %w", dir, err)
	}
	if strings.TrimSpace(m.Model) == "" {
		m.Model = filepath.Base(abs)
	}
	if strings.TrimSpace(m.Corpus) == "" {
		m.Corpus = filepath.Base(filepath.Dir(abs))
	}
	r = &Result{Dir: dir, Model: m.Model, Corpus: m.Corpus}
	r.Report.PerType = map[string]TypeScores{}
	withPred := true
	for _, run := range sf.Runs {
		sr, err := loadResult(filepath.Join(dir, run.Dir))
		if err != nil {
			return nil, true, fmt.Errorf("sweep %s, seed %d: %w", dir, run.Seed, err)
		}
		r.Seeds = append(r.Seeds, run.Seed)
		r.PerSeed = append(r.PerSeed, sr)
		withPred = withPred && sr.Gold != nil
	}
	n := float64(len(r.PerSeed))
	o := &r.Report.Overall
	for i, sr := range r.PerSeed {
		so := sr.Report.Overall
		o.Precision, o.Recall, o.F1 = o.Precision+so.Precision/n, o.Recall+so.Recall/n, o.F1+so.F1/n
		if i == 0 {
			o.FoundGold = so.FoundGold
		}
		for t, ts := range sr.Report.PerType {
			acc := r.Report.PerType[t]
			acc.Precision, acc.Recall, acc.F1 = acc.Precision+ts.Precision/n, acc.Recall+ts.Recall/n, acc.F1+ts.F1/n
			if acc.Support == 0 {
				acc.Support = ts.Support
			}
			r.Report.PerType[t] = acc
		}
		if withPred {
			r.Gold = append(r.Gold, sr.Gold...)
			r.Pred = append(r.Pred, sr.Pred...)
		}
	}
	return r, true, nil
}

// samples returns the paired samples of the Wilcoxon and Friedman tests,
// [model][block], and what a block is. When every model of the corpus is
// a sweep over the same seeds, a block is one (seed, entity type) pair and
// its value that seed's F1 of the type; otherwise a block is an entity
// type and its value the (seed-averaged) F1.
func (ca *CorpusAnalysis) samples() ([][]float64, string) {
	sweeps := true
	for _, r := range ca.Models {
		sweeps = sweeps && r.Seeds != nil && slices.Equal(r.Seeds, ca.Models[0].Seeds)
	}
	if !sweeps {
		return ca.F1, typeBlocks
	}
	out := make([][]float64, len(ca.Models))
	for i, r := range ca.Models {
		for _, sr := range r.PerSeed {
			for _, t := range ca.Types {
				out[i] = append(out[i], sr.Report.PerType[t].F1)
			}
		}
	}
	return out, fmt.Sprintf("(seed, entity type) pairs (%d seeds × %d types)", len(ca.Models[0].Seeds), len(ca.Types))
}

// typeBlocks is CorpusAnalysis.Blocks when the tests pair entity types.
const typeBlocks = "entity types"
