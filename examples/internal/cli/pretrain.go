package cli

import (
	"flag"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/pretrain"
)

// Pretrain holds the pretraining flags that biobertpt pretrain and
// examples/pretrain share: the starting model (-model, or -config and
// -vocab from scratch), -out, the corpus reading (-format,
// -split-sentences, -workers), the recipe (-epochs, -max-steps, -batch,
// -grad-accum, -lr, -warmup-ratio, -warmup-steps, -weight-decay,
// -max-grad-norm, -block-size, -mlm-probability, -whole-word-mask,
// -line-by-line, -validation-fraction, -seed), checkpoints and logging
// (-save-steps, -save-total-limit, -log-steps, -resume, -overwrite), the
// device (-device, -precision, -max-memory) and -dist-timeout. Bind them with BindPretrain;
// after fs.Parse, Options turns them into pretrain.TrainOptions.
type Pretrain struct {
	// Out is -out, the output directory (required).
	Out string

	o         pretrain.TrainOptions
	defModel  string
	format    string
	split     bool
	device    string
	precision string
}

// BindPretrain defines Pretrain's flags on fs with def's values as
// defaults (def.Model is -model's).
func BindPretrain(fs *flag.FlagSet, def pretrain.TrainOptions) *Pretrain {
	f := &Pretrain{o: def, defModel: def.Model}
	fs.StringVar(&f.o.Model, "model", def.Model, "starting model: Hub id, model directory or a pretraining run's directory")
	fs.StringVar(&f.o.Config, "config", def.Config, "start from scratch: config.json (with -vocab; replaces -model)")
	fs.StringVar(&f.o.Vocab, "vocab", def.Vocab, "start from scratch: vocab.txt (with -config)")
	fs.StringVar(&f.Out, "out", def.OutDir, "output directory: checkpoints, metrics.jsonl, final/ (the trained model)")
	fs.StringVar(&f.format, "format", "lines", "corpus format: lines (a document a line) or paragraphs (documents separated by blank lines)")
	fs.BoolVar(&f.split, "split-sentences", false, "split documents into sentences (Portuguese clinical rules) before encoding")
	fs.IntVar(&f.o.Workers, "workers", def.Workers, "goroutines encoding the corpus (0: all cores)")
	fs.IntVar(&f.o.Epochs, "epochs", def.Epochs, "training epochs per stage")
	fs.IntVar(&f.o.MaxSteps, "max-steps", def.MaxSteps, "optimizer steps per stage; > 0 overrides -epochs")
	fs.IntVar(&f.o.BatchSize, "batch", def.BatchSize, "examples per micro-batch")
	fs.IntVar(&f.o.GradAccum, "grad-accum", def.GradAccum, "micro-batches per optimizer step")
	fs.Float64Var(&f.o.LR, "lr", def.LR, "peak AdamW learning rate")
	fs.Float64Var(&f.o.WarmupRatio, "warmup-ratio", def.WarmupRatio, "share of the steps with linear warmup")
	fs.IntVar(&f.o.WarmupSteps, "warmup-steps", def.WarmupSteps, "warmup steps; > 0 overrides -warmup-ratio")
	fs.Float64Var(&f.o.WeightDecay, "weight-decay", def.WeightDecay, "AdamW weight decay (not on biases and LayerNorm weights)")
	fs.Float64Var(&f.o.MaxGradNorm, "max-grad-norm", def.MaxGradNorm, "gradient clipping norm; 0 disables")
	fs.IntVar(&f.o.BlockSize, "block-size", def.BlockSize, "tokens per block, [CLS] and [SEP] included")
	fs.Float64Var(&f.o.MLMProbability, "mlm-probability", def.MLMProbability, "share of tokens masked")
	fs.BoolVar(&f.o.WholeWordMask, "whole-word-mask", def.WholeWordMask, "mask whole words")
	fs.BoolVar(&f.o.LineByLine, "line-by-line", def.LineByLine, "one example per sentence instead of grouped blocks")
	fs.Float64Var(&f.o.ValidationFraction, "validation-fraction", def.ValidationFraction, "share of documents held out for validation perplexity (0: none)")
	fs.IntVar(&f.o.SaveSteps, "save-steps", def.SaveSteps, "checkpoint every N steps (and at each epoch end); 0: epoch ends only")
	fs.IntVar(&f.o.SaveTotalLimit, "save-total-limit", def.SaveTotalLimit, "keep at most N checkpoints per stage; 0 keeps all")
	fs.IntVar(&f.o.LogSteps, "log-steps", def.LogSteps, "a metrics line every N steps (losses are read from the device that often)")
	fs.Int64Var(&f.o.Seed, "seed", def.Seed, "seed of data order, masks, dropout and initialisation")
	fs.StringVar(&f.device, "device", "cpu", "cpu, cuda or cuda:N")
	fs.StringVar(&f.precision, "precision", string(bert.DefaultPrecision), "compute precision: fp32; bf16 (bf16 matmuls, fp32 master weights: CUDA GPUs with bf16, slow on the CPU); fp16 (CUDA only, with dynamic loss scaling: GPUs without bf16)")
	fs.Float64Var(&f.o.MaxMemoryGiB, "max-memory", def.MaxMemoryGiB, "cap on memory in GiB (CUDA: the allocator refuses to grow past it, e.g. 11 to check a 12 GB card; CPU: peak RSS checked each step); 0: none")
	fs.DurationVar(&f.o.DistTimeout, "dist-timeout", def.DistTimeout, "with several processes (torchrun, srun, biobertpt launch): longest wait for the rendezvous and for every gradient exchange; a rank that died or stalled fails the others after it (0: 30m)")
	fs.BoolVar(&f.o.Resume, "resume", def.Resume, "continue the run in -out from its latest good checkpoint (same data and options, checked against its run.json)")
	fs.BoolVar(&f.o.OverwriteOutputDir, "overwrite", def.OverwriteOutputDir, "-out holds another run: move it aside (to <out>.previous-<time>) and start afresh")
	return f
}

// Rules returns the ranges of Pretrain's numeric flags and -device, for
// ParseFlags.
func (f *Pretrain) Rules() []Rule {
	return []Rule{
		AtLeast("epochs", 1), AtLeast("max-steps", 0), AtLeast("batch", 1), AtLeast("grad-accum", 1),
		Above("lr", 0), AtLeast("warmup-ratio", 0), AtMost("warmup-ratio", 1), AtLeast("warmup-steps", 0),
		AtLeast("weight-decay", 0), AtLeast("max-grad-norm", 0), AtLeast("block-size", 3),
		Above("mlm-probability", 0), AtMost("mlm-probability", 1),
		AtLeast("validation-fraction", 0), Below("validation-fraction", 1),
		AtLeast("save-steps", 0), AtLeast("save-total-limit", 0), AtLeast("log-steps", 0),
		AtLeast("max-memory", 0), AtLeast("workers", 0), AtLeast("dist-timeout", 0), Device("device"),
	}
}

// Options returns the parsed flags as training options (Variant and
// Corpora are the caller's): -config or -vocab replace a -model left at
// its default, validation runs each epoch when documents are held out.
// Errors are usage errors naming the flag.
func (f *Pretrain) Options() (pretrain.TrainOptions, error) {
	o := f.o
	o.OutDir = f.Out
	if (o.Config != "" || o.Vocab != "") && o.Model == f.defModel {
		o.Model = ""
	}
	o.EvalEachEpoch = o.ValidationFraction > 0
	var err error
	if o.Corpus.Format, err = pretrain.ParseCorpusFormat(f.format); err != nil {
		return o, Usagef("-format: %v", err)
	}
	if f.split {
		o.Corpus.Split, o.Corpus.SplitName = pretrain.SplitSentences, pretrain.SentenceSplitName
	}
	dev, err := torchutil.ParseDevice(f.device)
	if err != nil {
		return o, Usagef("-device: %v", err)
	}
	o.Device = torchutil.DeviceString(dev)
	if o.Precision, err = bert.ParsePrecision(f.precision); err != nil {
		return o, Usagef("-precision: %v", err)
	}
	return o, nil
}
