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
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

func init() {
	// libtorch keeps grad mode and its last error per OS thread: all torch
	// work runs on the main goroutine, pinned to one thread.
	runtime.LockOSThread()
}

func main() { cli.Main("ner-clinpt", run) }

// errUsage marks a command-line error; usagef returns one.
var (
	errUsage = cli.ErrUsage
	usagef   = cli.Usagef
)

const usage = `usage: ner-clinpt -data DIR -out DIR [-model NAME|DIR] [flags]

Fine-tunes -model for NER on CLINpt (DIR of .xlsx, or .tsv/.csv, files with
the columns token, POS, lemma, tag), split 60/20/20 by document, and writes
into -out: best/ (the model), test_report.{txt,json}, test_conlleval.txt,
test_predictions.txt, metrics.jsonl, split/ (the document lists) and
results.json (for examples/compare).

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
	def := ner.DefaultTrainOptions()
	fs := flag.NewFlagSet("ner-clinpt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	data := fs.String("data", "", "CLINpt directory (required)")
	model := fs.String("model", "bert-base-multilingual-cased", "model to fine-tune: Hub id or directory")
	name := fs.String("name", "", "model name in results.json and examples/compare's tables (default: -model's last element)")
	out := fs.String("out", "", "output directory (required)")
	epochs := fs.Int("epochs", def.Epochs, "epochs")
	lr := fs.Float64("lr", def.LR, "peak AdamW learning rate")
	batch := fs.Int("batch", def.BatchSize, "batch size")
	maxLen := fs.Int("max-len", def.MaxLen, "longest window in sub-tokens (longer sentences are windowed)")
	wd := fs.Float64("weight-decay", def.WeightDecay, "AdamW weight decay")
	warmup := fs.Float64("warmup-ratio", def.WarmupRatio, "fraction of steps of linear warmup")
	seed := fs.Int64("seed", def.Seed, "seed of the split, the head's initialisation and the shuffling")
	trainFrac := fs.Float64("train", 0.6, "fraction of documents for training")
	devFrac := fs.Float64("dev", 0.2, "fraction of documents for development (the rest is the test split)")
	splitDir := fs.String("split", "", "read the split from this directory's train.txt, dev.txt, test.txt instead")
	sheet := fs.String("sheet", "", "worksheet to read (default: the first)")
	lenient := fs.Bool("lenient", false, "skip malformed rows with a warning instead of failing")
	device := fs.String("device", def.Device, "cpu, cuda or cuda:N")
	maxSteps := fs.Int("max-steps", 0, "stop after this many optimizer steps (0: no limit; for smoke tests)")
	resume := fs.Bool("resume", false, "continue from -out/checkpoint")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case *data == "":
		return usagef("-data is required (a directory of CLINpt .xlsx files, see docs/DATA.md)")
	case *out == "":
		return usagef("-out is required")
	}
	if _, err := torchutil.ParseDevice(*device); err != nil {
		return usagef("-device: %v", err)
	}
	o := def
	o.OutDir, o.Epochs, o.LR, o.BatchSize, o.MaxLen = *out, *epochs, *lr, *batch, *maxLen
	o.Stride = min(o.Stride, max(0, (*maxLen-3)/4))
	o.WeightDecay, o.WarmupRatio, o.Seed, o.Device = *wd, *warmup, *seed, *device
	o.MaxSteps, o.Resume, o.Log = *maxSteps, *resume, stderr
	if err := o.Validate(); err != nil {
		return usagef("%v", err)
	}

	corpus, err := ner.ReadCLINpt(*data, ner.CLINptOptions{Sheet: *sheet, Lenient: *lenient})
	if err != nil {
		return err
	}
	for _, w := range corpus.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	var split ner.Split
	if *splitDir != "" {
		split, err = ner.ReadFileLists(*splitDir, corpus)
	} else {
		split, err = ner.SplitDocuments(corpus, *trainFrac, *devFrac, *seed)
	}
	if err != nil {
		return err
	}
	if err := split.WriteFileLists(filepath.Join(*out, "split")); err != nil {
		return err
	}
	st := split.Stats()
	fmt.Fprintf(stdout, "CLINpt: %d documents; train %d / dev %d / test %d documents, %d / %d / %d sentences, %d / %d / %d entities\n",
		len(corpus.Documents), st.Train.Documents, st.Dev.Documents, st.Test.Documents,
		st.Train.Sentences, st.Dev.Sentences, st.Test.Sentences,
		st.Train.EntityTotal(), st.Dev.EntityTotal(), st.Test.EntityTotal())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := hub.ResolveContext(ctx, *model, hub.Options{Progress: stderr})
	if err != nil {
		return err
	}
	dir = finalDir(dir)
	tok, err := tokenize.Load(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s: %d epochs, batch %d, lr %g, max length %d, seed %d, %s\n", *model, o.Epochs, o.BatchSize, o.LR, o.MaxLen, o.Seed, o.Device)
	res, err := ner.Train(ctx, dir, tok, split, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "best epoch %d (dev micro F1 %.4f), %d steps; model in %s\n", res.BestEpoch, res.BestDevF1, res.Steps, res.BestDir)
	if res.Test == nil {
		return errors.New("the test split is empty: nothing to report")
	}

	n := *name
	if n == "" {
		n = filepath.Base(strings.TrimRight(*model, "/"+string(filepath.Separator)))
	}
	if err := writeManifest(*out, Manifest{Model: n, Corpus: "CLINpt", ModelPath: *model, Data: *data, Seed: *seed}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ntest split (%d sentences), entity-level scores (conlleval):\n\n", len(res.Test.Gold))
	if err := res.Test.Report.WriteText(stdout, 4); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nreports in %s (%s, %s, %s)\n", *out, ner.TestReportName, ner.TestReportJSONName, ner.TestPredName)
	return nil
}

// writeManifest writes results.json.
func writeManifest(dir string, m Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644)
}

// finalDir returns dir/final when dir is an examples/pretrain output
// directory (no config.json of its own, a final/ model inside), else dir.
func finalDir(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return dir
	}
	if _, err := os.Stat(filepath.Join(dir, "final", "config.json")); err == nil {
		return filepath.Join(dir, "final")
	}
	return dir
}
