// Command ner-clinpt fine-tunes a BERT model for named-entity recognition on
// CLINpt (Lopes, Teixeira and Gonçalo Oliveira 2019; 13 clinical entity
// types) as BioBERTpt did (Schneider et al. 2020, §3.2): a 60/20/20 split of
// the documents into train, dev and test, AdamW with learning rate 3e-5,
// batch 4, 10 epochs, the model with the best dev micro F1 kept, and the
// per-type report of the held-out test split written and printed.
//
// Usage:
//
//	go run ./examples/ner-clinpt -data data/clinpt -model pucpr/biobertpt-clin -out results/CLINpt/biobertpt-clin
//
// -data is a directory of CLINpt spreadsheets (.xlsx, or .tsv/.csv with the
// same four columns token, POS, lemma, tag); docs/DATA.md says where to get
// them. -model is mBERT, a BioBERTpt variant, any BERT on the Hub, or a
// directory (for example examples/pretrain's output). The output directory
// is a result directory for examples/compare.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/ner"
)

func init() {
	// libtorch keeps grad mode and its last error per OS thread: all torch
	// work runs on the main goroutine, pinned to one thread.
	runtime.LockOSThread()
}

func main() { cli.Main("ner-clinpt", run) }

// usagef returns a command-line error (exit status 2).
var usagef = cli.Usagef

const usage = `usage: ner-clinpt -data DIR|-train-file DIR [-dev-file DIR] [-test-file DIR] -out DIR [-model NAME|DIR] [flags]

Fine-tunes -model for NER on CLINpt (DIR of .xlsx, or .tsv/.csv, files with
the columns token, POS, lemma, tag), split 60/20/20 by document (or as
given by -train-file, -dev-file and -test-file), and writes
into -out: best/ (the model), test_report.{txt,json}, test_conlleval.txt,
test_predictions.txt, metrics.jsonl, split/ (the document lists) and
results.json (for examples/compare). -seeds 1,2,3 trains once per seed into
-out/seed-N and writes -out/summary.json and summary.md (mean ± sd over the
seeds); examples/compare takes -out as one model.

Flags (training defaults: the paper's):
`

// Manifest is the results.json that examples/compare reads.
type Manifest struct {
	Model     string `json:"model"`
	Corpus    string `json:"corpus"`
	ModelPath string `json:"model_path"`
	Data      string `json:"data"`
	Seed      int64  `json:"seed"`
}

// run is the program; main calls it with the process's arguments and streams.
func run(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("ner-clinpt", usage, stderr)
	data := fs.String("data", "", "CLINpt directory (required)")
	sheet := fs.String("sheet", "", "worksheet to read (default: the first)")
	train := cli.BindNERTrain(fs, ner.DefaultTrainOptions(), cli.NERHelp{Docs: "documents", Malformed: "rows", Resume: true, Seeds: true})
	if err := cli.ParseFlags(fs, args, train.Rules()...); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case *data == "" && train.Files().Train == "":
		return usagef("-data is required (a directory of CLINpt .xlsx files, see docs/DATA.md), or -train-file")
	}
	o, err := train.Options(stderr)
	if err != nil {
		return err
	}
	o.Card.Datasets = []string{"CLINpt"}
	if s := train.Seeds(); s != "" {
		return cli.SeedSweep(s, o.OutDir, args, func(a []string) error { return run(a, stdout, stderr) }, stdout)
	}

	_, split, err := train.ReadSplit(*data, func(path string) (*ner.Corpus, error) {
		c, err := ner.ReadCLINpt(path, ner.CLINptOptions{Sheet: *sheet, Lenient: train.Lenient})
		if err != nil {
			return nil, err
		}
		for _, w := range c.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
		return c, nil
	})
	if err != nil {
		return err
	}
	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	dir, tok, err := cli.ResolveModel(ctx, train.Model, hub.Options{Progress: stderr})
	if err != nil {
		return err
	}
	// Before anything is written: refuse another run's directory (or move
	// it aside with -overwrite), check a resumed run's data and options.
	if err := ner.PrepareOutDir(dir, split, o); err != nil {
		return err
	}
	if err := split.WriteFileLists(filepath.Join(o.OutDir, "split")); err != nil {
		return err
	}
	st := split.Stats()
	fmt.Fprintf(stdout, "CLINpt: %d documents; train %d / dev %d / test %d documents, %d / %d / %d sentences, %d / %d / %d entities\n",
		st.Train.Documents+st.Dev.Documents+st.Test.Documents, st.Train.Documents, st.Dev.Documents, st.Test.Documents,
		st.Train.Sentences, st.Dev.Sentences, st.Test.Sentences,
		st.Train.EntityTotal(), st.Dev.EntityTotal(), st.Test.EntityTotal())

	fmt.Fprintf(stdout, "model %s: %d epochs, batch %d, lr %g, max length %d, seed %d, %s\n", train.Model, o.Epochs, o.BatchSize, o.LR, o.MaxLen, o.Seed, o.Device)
	res, err := ner.Train(ctx, dir, tok, split, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "best %s, %d steps; model in %s\n", res.Best(), res.Steps, res.BestDir)
	if res.Test == nil {
		return errors.New("the test split is empty: nothing to report")
	}

	man := Manifest{Model: train.ModelName(), Corpus: "CLINpt", ModelPath: train.Model, Data: train.DataName(*data), Seed: o.Seed}
	if err := cli.WriteJSON(filepath.Join(o.OutDir, "results.json"), man); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ntest split (%d sentences), entity-level scores (conlleval):\n\n", len(res.Test.Gold))
	if err := res.Test.Report.WriteText(stdout, 4); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nreports in %s (%s, %s, %s)\n", o.OutDir, ner.TestReportName, ner.TestReportJSONName, ner.TestPredName)
	return nil
}
