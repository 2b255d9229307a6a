package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/pretrain"
)

func init() {
	register(command{name: "pretrain", summary: "continue masked-LM pretraining (BioBERTpt clin, bio, all) or train from scratch", run: runPretrain})
}

const pretrainUsage = "-variant clin|bio|all|custom -corpus PATHS (-model DIR|NAME | -config config.json -vocab vocab.txt) -out DIR [flags]"

// listFlag collects a repeatable flag whose values may be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func runPretrain(e *env, args []string) error {
	fs := newFlags(e, "pretrain", pretrainUsage)
	d := pretrain.DefaultTrainOptions()
	var corpus, corpusClin, corpusBio listFlag
	variant := fs.String("variant", "custom", "clin, bio, all (clin then bio, continuing from clin) or custom")
	fs.Var(&corpus, "corpus", "corpus files or globs, comma-separated or repeated; entries may be name=path (clinical, scielo-health, scielo-biology, pubmed-titles)")
	fs.Var(&corpusClin, "corpus-clin", "files of the clin stage (variant all or clin)")
	fs.Var(&corpusBio, "corpus-bio", "files of the bio stage (variant all or bio)")
	format := fs.String("format", "lines", "corpus format: lines (a document a line) or paragraphs (documents separated by blank lines)")
	split := fs.Bool("split-sentences", false, "split documents into sentences (Portuguese clinical rules) before encoding")
	model := fs.String("model", "", "starting model: directory or Hub name (e.g. bert-base-multilingual-cased)")
	config := fs.String("config", "", "config.json of a model trained from scratch (with -vocab)")
	vocab := fs.String("vocab", "", "vocab.txt of a model trained from scratch (with -config)")
	out := fs.String("out", "", "output directory: checkpoints, metrics.jsonl, final/ (the trained model)")
	cacheDir := fs.String("cache-dir", "", "token cache directory (default OUT/cache)")
	fs.IntVar(&d.Epochs, "epochs", d.Epochs, "training epochs")
	fs.IntVar(&d.MaxSteps, "max-steps", 0, "optimizer steps; > 0 overrides -epochs")
	fs.IntVar(&d.BatchSize, "batch", d.BatchSize, "examples per micro-batch")
	fs.IntVar(&d.GradAccum, "grad-accum", d.GradAccum, "micro-batches per optimizer step")
	fs.Float64Var(&d.LR, "lr", d.LR, "peak AdamW learning rate")
	fs.Float64Var(&d.WarmupRatio, "warmup-ratio", d.WarmupRatio, "share of the steps with linear warmup")
	fs.IntVar(&d.WarmupSteps, "warmup-steps", 0, "warmup steps; > 0 overrides -warmup-ratio")
	fs.Float64Var(&d.WeightDecay, "weight-decay", d.WeightDecay, "AdamW weight decay (not on biases and LayerNorm weights)")
	fs.Float64Var(&d.MaxGradNorm, "max-grad-norm", d.MaxGradNorm, "gradient clipping norm; 0 disables")
	fs.IntVar(&d.BlockSize, "block-size", d.BlockSize, "tokens per block, [CLS] and [SEP] included")
	fs.Float64Var(&d.MLMProbability, "mlm-probability", d.MLMProbability, "share of tokens masked")
	fs.BoolVar(&d.WholeWordMask, "whole-word-mask", false, "mask whole words")
	fs.BoolVar(&d.LineByLine, "line-by-line", false, "one example per sentence instead of grouped blocks")
	fs.Float64Var(&d.ValidationFraction, "validation-fraction", d.ValidationFraction, "share of documents held out for validation")
	fs.IntVar(&d.SaveSteps, "save-steps", d.SaveSteps, "checkpoint every N steps (and at each epoch end); 0: epoch ends only")
	fs.IntVar(&d.SaveTotalLimit, "save-total-limit", 0, "keep at most N checkpoints per stage; 0 keeps all")
	fs.IntVar(&d.LogSteps, "log-steps", d.LogSteps, "progress and metrics every N steps")
	seed := fs.Int64("seed", d.Seed, "seed of data order, masks, dropout and initialisation")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	precision := fs.String("precision", string(d.Precision), "compute precision: fp32; bf16 (bf16 matmuls, fp32 master weights: CUDA GPUs with bf16, slow on the CPU); fp16 (CUDA only, with dynamic loss scaling: GPUs without bf16)")
	fs.Float64Var(&d.MaxMemoryGiB, "max-memory", 0, "cap on memory in GiB (CUDA: the allocator refuses to grow past it, e.g. 11 to check a 12 GB card; CPU: peak RSS checked each step); 0: none")
	fs.BoolVar(&d.Resume, "resume", false, "continue the run in -out from its latest good checkpoint (same data and options, checked against its run.json)")
	fs.BoolVar(&d.OverwriteOutputDir, "overwrite", false, "-out holds another run: move it aside (to <out>.previous-<time>) and start afresh")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("epochs", 1), cli.AtLeast("max-steps", 0), cli.AtLeast("batch", 1), cli.AtLeast("grad-accum", 1), cli.Above("lr", 0), cli.AtLeast("warmup-ratio", 0), cli.AtMost("warmup-ratio", 1), cli.AtLeast("warmup-steps", 0), cli.AtLeast("weight-decay", 0), cli.AtLeast("max-grad-norm", 0), cli.AtLeast("block-size", 3), cli.Above("mlm-probability", 0), cli.AtMost("mlm-probability", 1), cli.AtLeast("validation-fraction", 0), cli.Below("validation-fraction", 1), cli.AtLeast("save-steps", 0), cli.AtLeast("save-total-limit", 0), cli.AtLeast("log-steps", 0), cli.AtLeast("max-memory", 0), cli.Device("device")); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("pretrain: unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return usagef("pretrain: -out is required")
	}
	o := d
	o.Variant, o.Model, o.Config, o.Vocab, o.OutDir, o.CacheDir, o.Seed = *variant, *model, *config, *vocab, *out, *cacheDir, *seed
	o.EvalEachEpoch = o.ValidationFraction > 0
	o.Log = e.stderr
	corpora := map[string][]string{}
	for _, c := range corpus {
		m, err := pretrain.ParseCorpusArg(c)
		if err != nil {
			return usagef("%v", err)
		}
		for k, v := range m {
			corpora[k] = append(corpora[k], v...)
		}
	}
	for _, sf := range []struct {
		stage string
		paths listFlag
	}{{"clin", corpusClin}, {"bio", corpusBio}} {
		for _, c := range sf.paths {
			for _, p := range strings.Split(c, ",") {
				if p = strings.TrimSpace(p); p != "" {
					corpora[sf.stage] = append(corpora[sf.stage], p)
				}
			}
		}
	}
	if len(corpora) == 0 {
		return usagef("pretrain: no corpus: give -corpus (or -corpus-clin and -corpus-bio for -variant all)")
	}
	o.Corpora = corpora
	var err error
	if o.Corpus.Format, err = pretrain.ParseCorpusFormat(*format); err != nil {
		return usagef("%v", err)
	}
	if *split {
		o.Corpus.Split, o.Corpus.SplitName = pretrain.SplitSentences, pretrain.SentenceSplitName
	}
	dev, err := torchutil.ParseDevice(*device)
	if err != nil {
		return usagef("%v", err)
	}
	o.Device = torchutil.DeviceString(dev)
	if o.Precision, err = bert.ParsePrecision(*precision); err != nil {
		return usagef("%v", err)
	}
	if err := o.Validate(); err != nil {
		return usagef("%v", err)
	}

	// Ctrl-C or SIGTERM: finish the step, write a checkpoint, stop.
	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	res, err := pretrain.Train(ctx, o)
	if err != nil {
		return err
	}
	for _, s := range res.Stages {
		line := fmt.Sprintf("stage %s: %d steps", s.Name, s.Steps)
		if s.Skipped {
			line = fmt.Sprintf("stage %s: already done", s.Name)
		}
		if n := len(s.Evals); n > 0 {
			line += fmt.Sprintf(", eval_loss %.4f, perplexity %.2f", s.Evals[n-1].Loss, s.Evals[n-1].Perplexity)
		}
		fmt.Fprintln(e.stdout, line)
	}
	fmt.Fprintln(e.stdout, "model:", res.FinalDir)
	return nil
}
