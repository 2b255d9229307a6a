package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/metrics"
)

// ManifestName is the optional file of a result directory that names the
// model and the corpus (written by examples/ner-clinpt and ner-semclinbr).
const ManifestName = "results.json"

// Manifest is results.json: which model was fine-tuned on which corpus, and
// the names of the report and predictions files inside the directory. Every
// field is optional: Model defaults to the directory's name, Corpus to its
// parent's name, Report to the first of test_report.json and report.json,
// Predictions to the first of test_predictions.txt and predictions.txt.
type Manifest struct {
	Model       string `json:"model"`
	Corpus      string `json:"corpus"`
	Report      string `json:"report,omitempty"`
	Predictions string `json:"predictions,omitempty"`
}

// TypeScores is one entity type of a report in the metrics JSON schema.
type TypeScores struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// ReportFile is the metrics JSON schema of a test report
// ({"overall":{...},"per_type":{TYPE:{...}}}, see metrics.Report.MarshalJSON).
type ReportFile struct {
	Overall struct {
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		F1        float64 `json:"f1"`
		FoundGold int     `json:"found_gold"`
		FoundPred int     `json:"found_pred"`
		Correct   int     `json:"correct"`
	} `json:"overall"`
	PerType map[string]TypeScores `json:"per_type"`
}

// Result is one model's test results on one corpus.
type Result struct {
	Dir    string
	Model  string
	Corpus string
	Report ReportFile
	// Gold and Pred are the predictions file's tags per sentence (nil when
	// the directory has no predictions file).
	Gold, Pred [][]string
	// Seeds and PerSeed are a seed sweep's seeds and runs (loadSweep); nil
	// for one run.
	Seeds   []int64
	PerSeed []*Result
}

// Types returns the entity types with gold support, sorted.
func (r *Result) Types() []string {
	var ts []string
	for t, s := range r.Report.PerType {
		if s.Support > 0 {
			ts = append(ts, t)
		}
	}
	sort.Strings(ts)
	return ts
}

// firstExisting returns the first name in names that exists in dir.
func firstExisting(dir string, names ...string) (string, bool) {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return n, true
		}
	}
	return "", false
}

// loadResult reads a result directory.
func loadResult(dir string) (*Result, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("result %s: not a directory", dir)
	}
	if r, ok, err := loadSweep(dir); ok || err != nil {
		return r, err
	}
	var m Manifest
	if b, err := os.ReadFile(filepath.Join(dir, ManifestName)); err == nil {
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("result %s: %s: %w", dir, ManifestName, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	if strings.TrimSpace(m.Model) == "" {
		m.Model = filepath.Base(abs)
	}
	if strings.TrimSpace(m.Corpus) == "" {
		m.Corpus = filepath.Base(filepath.Dir(abs))
	}
	r := &Result{Dir: dir, Model: m.Model, Corpus: m.Corpus}

	rep := m.Report
	if rep == "" {
		var ok bool
		if rep, ok = firstExisting(dir, "test_report.json", "report.json"); !ok {
			return nil, fmt.Errorf("result %s: no test_report.json or report.json (a metrics JSON report)", dir)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, rep))
	if err != nil {
		return nil, fmt.Errorf("result %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &r.Report); err != nil {
		return nil, fmt.Errorf("result %s: %s: %w", dir, rep, err)
	}
	if r.Report.PerType == nil {
		return nil, fmt.Errorf("result %s: %s: no \"per_type\" object (want the metrics JSON schema)", dir, rep)
	}

	pred := m.Predictions
	if pred == "" {
		pred, _ = firstExisting(dir, "test_predictions.txt", "predictions.txt")
	}
	if pred != "" {
		path := filepath.Join(dir, pred)
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("result %s: %w", dir, err)
		}
		defer f.Close()
		c, err := metrics.ReadConll(f, path, metrics.ConllOptions{})
		if err != nil {
			return nil, fmt.Errorf("result %s: %w", dir, err)
		}
		r.Gold, r.Pred = c.Gold(), c.Pred()
	}
	return r, nil
}
