package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/pretrain"
)

func init() {
	register(command{name: "perplexity", summary: "masked-LM loss and perplexity of a model on a corpus (fixed masks)", run: runPerplexity})
}

// perplexityJSON is the -json output.
type perplexityJSON struct {
	Loss       float64 `json:"loss"`
	Perplexity float64 `json:"perplexity"`
	Tokens     int64   `json:"tokens"`
}

func runPerplexity(e *env, args []string) error {
	fs := newFlags(e, "perplexity", "-model DIR|NAME -corpus PATHS [-json] [flags]")
	d := pretrain.DefaultPerplexityOptions()
	var corpus listFlag
	model := fs.String("model", "", "model directory (HF format with vocab.txt) or Hub name")
	fs.Var(&corpus, "corpus", "corpus files or globs, comma-separated or repeated")
	format := fs.String("format", "lines", "corpus format: lines or paragraphs")
	asJSON := fs.Bool("json", false, `print {"loss":..,"perplexity":..,"tokens":..}`)
	fs.IntVar(&d.BlockSize, "block-size", d.BlockSize, "tokens per block (capped at the model's positions)")
	fs.IntVar(&d.BatchSize, "batch", d.BatchSize, "blocks per forward pass")
	fs.Float64Var(&d.MLMProbability, "mlm-probability", d.MLMProbability, "share of tokens masked")
	fs.BoolVar(&d.WholeWordMask, "whole-word-mask", false, "mask whole words")
	fs.BoolVar(&d.LineByLine, "line-by-line", false, "one block per sentence")
	fs.Uint64Var(&d.Seed, "seed", d.Seed, "seed of the masks")
	fs.StringVar(&d.CacheDir, "cache-dir", "", "token cache directory (default: a temporary one)")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("block-size", 3), cli.AtLeast("batch", 1), cli.Above("mlm-probability", 0), cli.AtMost("mlm-probability", 1), cli.Device("device")); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("perplexity: unexpected argument %q", fs.Arg(0))
	}
	if *model == "" || len(corpus) == 0 {
		return usagef("perplexity: -model and -corpus are required")
	}
	var paths []string
	for _, c := range corpus {
		for _, p := range strings.Split(c, ",") {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
	}
	var err error
	if d.Corpus.Format, err = pretrain.ParseCorpusFormat(*format); err != nil {
		return usagef("%v", err)
	}
	if d.Device, err = torchutil.ParseDevice(*device); err != nil {
		return usagef("%v", err)
	}
	if err := d.Validate(); err != nil {
		return usagef("%v", err)
	}
	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	dir, tok, err := cli.ResolveModel(ctx, *model, hub.Options{})
	if err != nil {
		return err
	}
	m, _, err := bert.LoadForMaskedLM(dir, bert.LoadOptions{Device: d.Device})
	if err != nil {
		return err
	}
	r, err := pretrain.Perplexity(ctx, m, tok, paths, d)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(perplexityJSON{Loss: r.Loss, Perplexity: r.Perplexity, Tokens: r.Tokens})
	}
	fmt.Fprintf(e.stdout, "loss %.4f  perplexity %.2f  (%d masked tokens in %d blocks)\n", r.Loss, r.Perplexity, r.Tokens, r.Blocks)
	return nil
}
