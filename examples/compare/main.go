// Command compare reproduces the comparison tables of BioBERTpt (Schneider
// et al. 2020): given the result directories of several NER fine-tuning runs
// (examples/ner-clinpt, examples/ner-semclinbr, or ner.Train's output), it
// prints Table 2 (micro F1 per model and corpus) and Table 3 (F1 per entity
// type and model), runs the Friedman test over models × entity types and
// pairwise Wilcoxon signed-rank post-tests with Holm's correction, marks the
// significant differences (P < .05), computes percentile bootstrap
// confidence intervals of every F1 from the predictions, and writes a
// Markdown report and a PNG bar chart per corpus.
//
// Usage:
//
//	go run ./examples/compare [flags] RESULT_DIR...
//
// A result directory holds a test report in the metrics JSON schema
// (test_report.json or report.json) and, optionally, the predictions in
// conlleval's format (test_predictions.txt or predictions.txt; without it no
// interval is computed) and a results.json manifest
// {"model": "...", "corpus": "..."}. Without the manifest, the model is the
// directory's name and the corpus its parent's (results/CLINpt/mBERT).
// A seed sweep's directory (biobertpt train-ner -seeds) counts as one
// model whose per-seed scores the tests pair by seed and entity type.
// Charts use the Okabe–Ito palette, which colour-blind readers can tell
// apart.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/metrics"
)

func init() {
	// The rule for every main package of this module (libtorch keeps state
	// per OS thread); compare itself does not use torch.
	runtime.LockOSThread()
}

func main() { cli.Main("compare", run) }

// usagef returns a command-line error (exit status 2).
var usagef = cli.Usagef

const usage = `usage: compare [flags] RESULT_DIR...

Compares NER results: Table 2 (micro F1 per model and corpus), Table 3 (F1 per
entity type), Friedman + Wilcoxon/Holm tests, bootstrap intervals, a Markdown
report (OUT/report.md) and a bar chart per corpus (OUT/f1_<corpus>.png).

Each RESULT_DIR holds test_report.json (or report.json; metrics JSON schema),
optionally test_predictions.txt (or predictions.txt; conlleval format) and
results.json {"model": "...", "corpus": "..."}; without results.json the model
is the directory's name and the corpus its parent's name. A seed sweep's
directory (train-ner -seeds: summary.json and seed-N/) is one model: tables
show the means over seeds, the Wilcoxon and Friedman tests pair per-seed F1
by (seed, entity type) when every model of the corpus is a sweep over the
same seeds, and the bootstrap resamples (seed, sentence) pairs.

Flags:
`

// run is the program; main calls it with the process's arguments and streams.
func run(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("compare", usage, stderr)
	out := fs.String("out", "compare-out", "directory for report.md and the charts (created)")
	samples := fs.Int("bootstrap", 1000, "bootstrap resamples of the test sentences (intervals and paired tests)")
	conf := fs.Float64("confidence", 0.95, "level of the bootstrap intervals")
	seed := fs.Uint64("seed", 42, "seed of the bootstrap")
	alpha := fs.Float64("alpha", 0.05, "significance level")
	adjust := fs.String("adjust", "holm", "multiple-comparison correction: holm, bonferroni or none")
	noChart := fs.Bool("no-chart", false, "do not draw the charts")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("bootstrap", 1), cli.Above("confidence", 0), cli.Below("confidence", 1), cli.Above("alpha", 0), cli.Below("alpha", 1)); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usagef("no RESULT_DIR given")
	}
	o := Options{Bootstrap: metrics.DefaultBootstrapOptions(), Alpha: *alpha}
	o.Bootstrap.Samples, o.Bootstrap.Confidence, o.Bootstrap.Seed = *samples, *conf, *seed
	o.Bootstrap.Eval = metrics.Options{Scheme: metrics.IOB2, Mode: metrics.Conlleval}
	if err := o.Bootstrap.Validate(); err != nil {
		return usagef("%v", err)
	}
	if !(*alpha > 0 && *alpha < 1) {
		return usagef("-alpha %v: want 0 < alpha < 1", *alpha)
	}
	switch strings.ToLower(*adjust) {
	case "holm":
		o.Adjust = metrics.Holm
	case "bonferroni":
		o.Adjust = metrics.Bonferroni
	case "none":
		o.Adjust = metrics.NoAdjust
	default:
		return usagef("-adjust %q: want holm, bonferroni or none", *adjust)
	}

	var results []*Result
	for _, dir := range fs.Args() {
		r, err := loadResult(dir)
		if err != nil {
			return err
		}
		if r.Gold != nil {
			checkConsistent(r, o, stderr)
		}
		results = append(results, r)
	}
	a, err := analyze(results, o)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	images := map[string]string{}
	if !*noChart {
		used := map[string]bool{}
		for _, ca := range a.Per {
			name := "f1_" + slug(ca.Corpus)
			for base, n := name, 2; used[name]; n++ {
				name = fmt.Sprintf("%s-%d", base, n)
			}
			used[name] = true
			name += ".png"
			if err := drawChart(ca, filepath.Join(*out, name)); err != nil {
				return err
			}
			images[ca.Corpus] = name
		}
	}
	md := a.markdown(images)
	reportPath := filepath.Join(*out, "report.md")
	if err := atomicfile.WriteBytes(reportPath, []byte(md)); err != nil {
		return err
	}
	if _, err := io.WriteString(stdout, md); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "compare: wrote %s", reportPath)
	for _, c := range a.Corpora {
		if img := images[c]; img != "" {
			fmt.Fprintf(stderr, ", %s", filepath.Join(*out, img))
		}
	}
	fmt.Fprintln(stderr)
	return nil
}

// adjustName names a correction in the report.
func adjustName(a metrics.Adjust) string {
	switch a {
	case metrics.Holm:
		return "Holm"
	case metrics.Bonferroni:
		return "Bonferroni"
	}
	return "no"
}

// checkConsistent warns when the predictions file does not reproduce the
// report's micro F1 (a report and predictions of different runs).
func checkConsistent(r *Result, o Options, stderr io.Writer) {
	rep, err := metrics.Evaluate(r.Gold, r.Pred, o.Bootstrap.Eval)
	if err != nil {
		fmt.Fprintf(stderr, "compare: warning: %s: predictions: %v\n", r.Dir, err)
		return
	}
	if d := rep.Micro.F1 - r.Report.Overall.F1; d > 1e-6 || d < -1e-6 {
		fmt.Fprintf(stderr, "compare: warning: %s: the predictions give micro F1 %.4f, the report %.4f\n",
			r.Dir, rep.Micro.F1, r.Report.Overall.F1)
	}
}
