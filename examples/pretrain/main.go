// Command pretrain reproduces the continued pretraining of BioBERTpt
// (Schneider et al. 2020, §3.1): starting from mBERT
// (bert-base-multilingual-cased), masked-language-model training on
// Portuguese clinical notes gives BioBERTpt(clin), on SciELO health and
// biology articles and PubMed titles BioBERTpt(bio), and clin followed by
// bio BioBERTpt(all). The flags default to the paper's hyper-parameters
// (pretrain.DefaultOptions: 5 epochs, batch 4, learning rate 2e-5, blocks
// of 512 tokens, 15% masking).
//
// Usage:
//
//	go run ./examples/pretrain -variant clin -corpus-clin 'notes/*.txt' -out runs/clin
//	go run ./examples/pretrain -variant bio  -corpus-bio 'scielo/*.txt,pubmed-titles.txt' -out runs/bio
//	go run ./examples/pretrain -variant all  -corpus-clin notes/ -corpus-bio bio/ -out runs/all
//
// docs/DATA.md says where the corpora come from and how the files look.
package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/pretrain"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

func init() {
	// libtorch keeps grad mode and its last error per OS thread: all torch
	// work runs on the main goroutine, pinned to one thread.
	runtime.LockOSThread()
}

func main() { cli.Main("pretrain", run) }

// usagef returns a command-line error (exit status 2).
var usagef = cli.Usagef

const usage = `usage: pretrain -variant clin|bio|all -corpus-clin PATHS -corpus-bio PATHS -out DIR [flags]

Continued masked-LM pretraining of BioBERTpt. clin reads -corpus-clin, bio
reads -corpus-bio, all reads clin then bio (continuing from clin's model).
PATHS are comma-separated files, directories or globs of UTF-8 text: one
sentence (or note) per line, or -format paragraphs for notes separated by
blank lines. The final model is written to OUT/final (for all: OUT/clin/final
is the clin stage's model). Ctrl-C or SIGTERM writes a checkpoint and exits
with status 1; -resume continues exactly. OUT/run.json records the run; a
directory holding another run is refused unless -resume or -overwrite.

Flags (defaults: the paper's hyper-parameters):
`

// run is the program; main calls it with the process's arguments and streams.
func run(args []string, stdout, stderr io.Writer) error {
	def := pretrain.DefaultTrainOptions()
	fs := cli.NewFlagSet("pretrain", usage, stderr)
	variant := fs.String("variant", "clin", "clin, bio or all")
	clin := fs.String("corpus-clin", "", "clinical notes (stage clin): comma-separated files, directories or globs")
	bio := fs.String("corpus-bio", "", "SciELO and PubMed text (stage bio): comma-separated files, directories or globs")
	named := fs.String("corpus", "", "corpora by name instead: clinical=…,scielo-health=…,scielo-biology=…,pubmed-titles=…")
	eval := fs.String("eval", "", "comma-separated held-out files: print the perplexity of the starting and the final model on them")
	def.Model = "bert-base-multilingual-cased"
	pf := cli.BindPretrain(fs, def)
	if err := cli.ParseFlags(fs, args, pf.Rules()...); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if pf.Out == "" {
		return usagef("-out is required")
	}
	v, err := pretrain.LookupVariant(*variant)
	if err != nil || v.Name == "custom" {
		return usagef("-variant %q: want clin, bio or all", *variant)
	}
	corpora, err := corporaFor(v, *clin, *bio, *named)
	if err != nil {
		return err
	}
	o, err := pf.Options()
	if err != nil {
		return err
	}
	o.Variant = v.Name
	o.Corpora = corpora
	o.Log = stderr
	if err := o.Validate(); err != nil {
		return usagef("%v", err)
	}
	var evalFiles []string
	for _, f := range strings.Split(*eval, ",") {
		if f = strings.TrimSpace(f); f != "" {
			evalFiles = append(evalFiles, f)
		}
	}

	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	fmt.Fprintf(stdout, "%s\n", v.Description)
	for _, s := range v.Stages {
		fmt.Fprintf(stdout, "  stage %s: %s\n", s.Name, strings.Join(stageFiles(corpora, s), ", "))
	}
	fmt.Fprintf(stdout, "  epochs %d, max steps %d, batch %d×%d, lr %g, warmup %g, weight decay %g, blocks of %d, masking %g, seed %d, %s\n",
		o.Epochs, o.MaxSteps, o.BatchSize, o.GradAccum, o.LR, o.WarmupRatio, o.WeightDecay, o.BlockSize, o.MLMProbability, o.Seed, o.Device)

	var before *pretrain.PerplexityResult
	if len(evalFiles) > 0 {
		start := o.Model
		if start == "" {
			fmt.Fprintf(stdout, "  (no perplexity before training: the model starts from scratch)\n")
		} else {
			p, err := perplexity(ctx, start, evalFiles, o, stderr)
			if err != nil {
				return err
			}
			before = &p
		}
	}

	res, err := pretrain.Train(ctx, o)
	if err != nil {
		return err
	}
	for _, s := range res.Stages {
		line := fmt.Sprintf("stage %s: %d steps", s.Name, s.Steps)
		if s.Skipped {
			line += " (already done)"
		} else if s.Resumed != "" {
			line += " (resumed from " + s.Resumed + ")"
		}
		if n := len(s.Losses); n > 0 {
			line += fmt.Sprintf(", loss %.4f → %.4f", s.Losses[0], s.Losses[n-1])
		}
		if n := len(s.Evals); n > 0 {
			line += fmt.Sprintf(", validation perplexity %.2f", s.Evals[n-1].Perplexity)
		}
		fmt.Fprintf(stdout, "%s; model in %s\n", line, s.FinalDir)
	}
	if len(evalFiles) > 0 {
		p, err := perplexity(ctx, res.FinalDir, evalFiles, o, stderr)
		if err != nil {
			return err
		}
		if before != nil {
			fmt.Fprintf(stdout, "perplexity on %s: %.2f before, %.2f after\n", strings.Join(evalFiles, ", "), before.Perplexity, p.Perplexity)
		} else {
			fmt.Fprintf(stdout, "perplexity on %s: %.2f\n", strings.Join(evalFiles, ", "), p.Perplexity)
		}
	}
	fmt.Fprintf(stdout, "final model: %s (%s)\n", res.FinalDir, res.Duration.Round(1e9))
	return nil
}

// corporaFor builds pretrain.TrainOptions.Corpora from the flags and checks
// that every stage of v has files and no flag is left unused.
func corporaFor(v pretrain.Variant, clin, bio, named string) (map[string][]string, error) {
	out := map[string][]string{}
	if named != "" {
		m, err := pretrain.ParseCorpusArg(named)
		if err != nil {
			return nil, usagef("-corpus: %v", err)
		}
		if len(m[""]) > 0 {
			return nil, usagef("-corpus: name every path (clinical=…, scielo-health=…, scielo-biology=…, pubmed-titles=…)")
		}
		out = m
	}
	stages := map[string]bool{}
	for _, s := range v.Stages {
		stages[s.Name] = true
	}
	for _, f := range []struct{ stage, flag, val string }{{"clin", "-corpus-clin", clin}, {"bio", "-corpus-bio", bio}} {
		var paths []string
		for _, p := range strings.Split(f.val, ",") {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
		if len(paths) == 0 {
			continue
		}
		if !stages[f.stage] {
			return nil, usagef("%s given, but variant %s has no %s stage", f.flag, v.Name, f.stage)
		}
		out[f.stage] = paths
	}
	for _, s := range v.Stages {
		if len(stageFiles(out, s)) == 0 {
			return nil, usagef("variant %s: no files for stage %s (set -corpus-%s)", v.Name, s.Name, s.Name)
		}
	}
	return out, nil
}

// stageFiles lists the paths given for stage s (by stage name or corpus names).
func stageFiles(corpora map[string][]string, s pretrain.Stage) []string {
	files := append([]string(nil), corpora[s.Name]...)
	for _, c := range s.Corpora {
		files = append(files, corpora[c]...)
	}
	return files
}

// perplexity loads the masked-LM model nameOrDir and evaluates it on files
// with the training run's block size, masking rate and seed.
func perplexity(ctx context.Context, nameOrDir string, files []string, o pretrain.TrainOptions, stderr io.Writer) (pretrain.PerplexityResult, error) {
	dir, err := hub.Resolve(ctx, nameOrDir, hub.Options{Progress: stderr})
	if err != nil {
		return pretrain.PerplexityResult{}, err
	}
	dev, err := torchutil.ParseDevice(o.Device)
	if err != nil {
		return pretrain.PerplexityResult{}, err
	}
	m, _, err := bert.LoadForMaskedLM(dir, bert.LoadOptions{Device: dev})
	if err != nil {
		return pretrain.PerplexityResult{}, err
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		return pretrain.PerplexityResult{}, err
	}
	po := pretrain.DefaultPerplexityOptions()
	po.BlockSize, po.MLMProbability, po.WholeWordMask = o.BlockSize, o.MLMProbability, o.WholeWordMask
	po.LineByLine, po.Seed, po.Corpus, po.Device = o.LineByLine, uint64(o.Seed), o.Corpus, dev
	fmt.Fprintf(stderr, "pretrain: perplexity of %s on %d file(s)\n", nameOrDir, len(files))
	return pretrain.Perplexity(ctx, m, tok, files, po)
}
