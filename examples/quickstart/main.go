// Command quickstart is the README's `make demo`: the whole BioBERTpt recipe
// (Schneider et al. 2020) in miniature, on a CPU, with nothing downloaded.
//
//  1. It builds a small BERT (hidden 128, 2 layers, 4 heads) over the
//     embedded Portuguese clinical WordPiece vocabulary (internal/demodata).
//  2. It continues masked-language-model pretraining on the embedded
//     clinical notes (pretrain.Train), printing the perplexity of held-out
//     notes before and after.
//  3. It fine-tunes NER (ner.Train) on the embedded corpus in CLINpt's
//     format, split 60/20/20 by document, and prints the per-type report of
//     the test split (conlleval-compatible entity-level scores).
//  4. It tags demodata.SampleSentence() and prints each entity with its
//     character offsets.
//
// With -model NAME|DIR it skips steps 1 and 2 and fine-tunes a real
// checkpoint instead, e.g. -model pucpr/biobertpt-clin (downloaded from the
// HuggingFace Hub into the HF cache) or a local model directory.
//
// Usage:
//
//	go run ./examples/quickstart [flags]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/pretrain"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

func init() {
	// libtorch keeps grad mode and its last error per OS thread: all torch
	// work runs on the main goroutine, pinned to one thread.
	runtime.LockOSThread()
}

func main() { cli.Main("quickstart", run) }

// usagef returns a command-line error (exit status 2).
var usagef = cli.Usagef

const usage = `usage: quickstart [flags]

Builds a small BERT over an embedded Portuguese clinical vocabulary, continues
its masked-LM pretraining on embedded clinical notes, fine-tunes NER on an
embedded corpus in CLINpt's format (60/20/20 document split), prints the test
report and tags a sample sentence. Progress bars go to stderr, results to
stdout. With -model it fine-tunes that checkpoint instead (Hub id or
directory; no pretraining step).

Flags:
`

// config is the parsed command line.
type config struct {
	out           string
	model         string
	device        string
	seed          int64
	pretrainSteps int
	pretrainLR    float64
	epochs        int
	lr            float64
	batch         int
	maxLen        int
	hidden        int
	layers        int
	heads         int
	intermediate  int
	offline       bool
	overwrite     bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := cli.NewFlagSet("quickstart", usage, stderr)
	fs.StringVar(&c.out, "out", "", "output directory (default: a new temporary directory, kept)")
	fs.BoolVar(&c.overwrite, "overwrite", false, "-out holds an earlier quickstart's runs: move them aside and start afresh")
	fs.StringVar(&c.model, "model", "", "fine-tune this checkpoint instead: a Hub id (pucpr/biobertpt-clin) or a model directory")
	fs.StringVar(&c.device, "device", "cpu", "cpu, cuda or cuda:N")
	fs.Int64Var(&c.seed, "seed", 42, "seed of initialisation, masking, shuffling and the document split")
	fs.IntVar(&c.pretrainSteps, "pretrain-steps", 200, "masked-LM optimizer steps on the embedded notes (0 skips pretraining)")
	fs.Float64Var(&c.pretrainLR, "pretrain-lr", 1e-3, "peak learning rate of the masked-LM pretraining")
	fs.IntVar(&c.epochs, "epochs", 0, "NER fine-tuning epochs (0: 8 for the small model, 3 with -model)")
	fs.Float64Var(&c.lr, "lr", 0, "NER peak learning rate (0: 3e-3 for the small model, the paper's 3e-5 with -model)")
	fs.IntVar(&c.batch, "batch", 0, "NER batch size (0: 16 for the small model, the paper's 4 with -model)")
	fs.IntVar(&c.maxLen, "max-len", 128, "longest input in sub-tokens (also the small model's max_position_embeddings)")
	fs.IntVar(&c.hidden, "hidden", 128, "small model: hidden size")
	fs.IntVar(&c.layers, "layers", 2, "small model: layers")
	fs.IntVar(&c.heads, "heads", 4, "small model: attention heads")
	fs.IntVar(&c.intermediate, "intermediate", 256, "small model: feed-forward size")
	fs.BoolVar(&c.offline, "offline", false, "with -model: use the HF cache only (as HF_HUB_OFFLINE=1)")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("epochs", 0), cli.AtLeast("lr", 0), cli.AtLeast("batch", 0), cli.AtLeast("pretrain-steps", 0), cli.Above("pretrain-lr", 0), cli.AtLeast("max-len", 16), cli.AtLeast("hidden", 1), cli.AtLeast("layers", 1), cli.AtLeast("heads", 1), cli.AtLeast("intermediate", 1), cli.Device("device")); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q", fs.Arg(0))
	}
	real := c.model != ""
	if c.epochs == 0 {
		c.epochs = pick(real, 3, 8)
	}
	if c.lr == 0 {
		c.lr = pickF(real, 3e-5, 3e-3)
	}
	if c.batch == 0 {
		c.batch = pick(real, 4, 16)
	}
	switch {
	case c.epochs < 1:
		return nil, usagef("-epochs %d: want >= 1", c.epochs)
	case c.pretrainSteps < 0:
		return nil, usagef("-pretrain-steps %d: want >= 0", c.pretrainSteps)
	case !(c.lr > 0) || !(c.pretrainLR > 0):
		return nil, usagef("-lr and -pretrain-lr must be > 0")
	case c.batch < 1:
		return nil, usagef("-batch %d: want >= 1", c.batch)
	case c.maxLen < 16:
		return nil, usagef("-max-len %d: want >= 16", c.maxLen)
	case c.hidden < 1 || c.layers < 1 || c.heads < 1 || c.intermediate < 1:
		return nil, usagef("-hidden, -layers, -heads and -intermediate must be >= 1")
	case c.hidden%c.heads != 0:
		return nil, usagef("-hidden %d is not divisible by -heads %d", c.hidden, c.heads)
	}
	if _, err := torchutil.ParseDevice(c.device); err != nil {
		return nil, usagef("-device: %v", err)
	}
	return c, nil
}

func pick(real bool, a, b int) int {
	if real {
		return a
	}
	return b
}

func pickF(real bool, a, b float64) float64 {
	if real {
		return a
	}
	return b
}

// run is the program; main calls it with the process's arguments and streams.
func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	start := time.Now()
	if c.out == "" {
		if c.out, err = os.MkdirTemp("", "biobertpt-quickstart-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	dev, _ := torchutil.ParseDevice(c.device)
	torchutil.ManualSeed(c.seed)
	fmt.Fprintf(stdout, "BioBERTpt quickstart — output in %s\n\n", c.out)

	// Data: the embedded notes (train / held out) and NER corpus on disk.
	data := filepath.Join(c.out, "data")
	trainTxt, evalTxt, nTrain, nEval, err := writeNotes(data)
	if err != nil {
		return err
	}
	nerDir := filepath.Join(data, "clinpt")
	if err := writeNER(nerDir); err != nil {
		return err
	}
	corpus, err := ner.ReadCLINpt(nerDir, ner.CLINptOptions{})
	if err != nil {
		return err
	}
	split, err := ner.SplitDocuments(corpus, 0.6, 0.2, c.seed)
	if err != nil {
		return err
	}
	st := split.Stats()
	fmt.Fprintf(stdout, "[1/4] data\n  clinical notes: %d for pretraining, %d held out for perplexity\n", nTrain, nEval)
	fmt.Fprintf(stdout, "  NER corpus (CLINpt format, %d files): train %d / dev %d / test %d sentences (60/20/20 by document)\n\n",
		len(corpus.Documents), st.Train.Sentences, st.Dev.Sentences, st.Test.Sentences)

	// Model: a small fresh BERT, pretrained further on the notes, or -model.
	var modelDir string
	var tok *tokenize.Tokenizer
	if c.model != "" {
		fmt.Fprintf(stdout, "[2/4] model %s (no pretraining step)\n", c.model)
		if modelDir, tok, err = cli.ResolveModel(ctx, c.model, hub.Options{Offline: c.offline, Progress: stderr}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "  %s (vocabulary %d)\n\n", modelDir, tok.VocabSize())
	} else {
		if modelDir, tok, err = pretrainSmall(ctx, c, dev, trainTxt, evalTxt, stdout, stderr); err != nil {
			return err
		}
	}

	// NER fine-tuning.
	fmt.Fprintf(stdout, "[3/4] NER fine-tuning: %d epoch(s), batch %d, lr %g\n", c.epochs, c.batch, c.lr)
	o := ner.DefaultTrainOptions()
	o.OutDir = filepath.Join(c.out, "ner")
	o.Epochs, o.LR, o.BatchSize = c.epochs, c.lr, c.batch
	o.MaxLen = c.maxLen
	o.Stride = min(o.Stride, (c.maxLen-2)/4)
	o.EvalBatchSize = 64
	o.Seed = c.seed
	o.Device = c.device
	o.OverwriteOutputDir = c.overwrite
	o.Log = stderr
	res, err := ner.Train(ctx, modelDir, tok, split, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "  best %s; model in %s\n\n", res.Best(), res.BestDir)
	if res.Test == nil {
		return errors.New("the test split is empty")
	}
	fmt.Fprintf(stdout, "  test split (%d sentences), entity-level scores:\n\n", len(res.Test.Gold))
	if err := res.Test.Report.WriteText(indent(stdout, "  "), 4); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n  test micro F1 %.4f\n\n", res.Test.Report.Micro.F1)

	// Tagging.
	sample := demodata.SampleSentence()
	fmt.Fprintf(stdout, "[4/4] tagging: %s\n", sample)
	tagger, err := ner.Load(res.BestDir, ner.TaggerOptions{Device: c.device, MaxLen: c.maxLen})
	if err != nil {
		return err
	}
	defer tagger.Close()
	ents, err := tagger.Predict(sample)
	if err != nil {
		return err
	}
	if len(ents) == 0 {
		fmt.Fprintln(stdout, "  (no entities found)")
	}
	for _, e := range ents {
		fmt.Fprintf(stdout, "  %-5s [%3d:%3d] %-40q %.2f\n", e.Type, e.Start, e.End, e.Text, e.Score)
	}
	fmt.Fprintf(stdout, "\ndone in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// pretrainSmall builds the small BERT, measures the held-out perplexity,
// continues masked-LM pretraining and measures it again. It returns the
// final model's directory and the tokenizer.
func pretrainSmall(ctx context.Context, c *config, dev gotch.Device, trainTxt, evalTxt string, stdout, stderr io.Writer) (string, *tokenize.Tokenizer, error) {
	opts := tokenize.DefaultOptions()
	opts.MaxLen = c.maxLen
	tok, err := tokenize.New(strings.Split(strings.TrimRight(string(demodata.Vocab()), "\n"), "\n"), opts, "demodata vocab.txt")
	if err != nil {
		return "", nil, err
	}
	cfg := bert.DefaultConfig()
	cfg.VocabSize = tok.VocabSize()
	cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads = c.hidden, c.layers, c.heads
	cfg.IntermediateSize, cfg.MaxPositionEmbeddings = c.intermediate, c.maxLen
	if err := cfg.Validate(); err != nil {
		return "", nil, err
	}
	initDir := filepath.Join(c.out, "init")
	m, err := bert.NewForMaskedLM(cfg, dev)
	if err != nil {
		return "", nil, err
	}
	if err := m.Save(initDir); err != nil {
		return "", nil, err
	}
	if err := tok.Save(initDir); err != nil {
		return "", nil, err
	}
	fmt.Fprintf(stdout, "[2/4] small BERT: hidden %d, %d layers, %d heads, intermediate %d, %d positions, vocabulary %d (%.2fM parameters)\n",
		c.hidden, c.layers, c.heads, c.intermediate, c.maxLen, cfg.VocabSize, float64(bert.NumParameters(m.Parameters()))/1e6)
	po := pretrain.DefaultPerplexityOptions()
	po.BlockSize, po.BatchSize, po.Device, po.Seed = c.maxLen, 16, dev, uint64(c.seed)
	po.Corpus = pretrain.CorpusOptions{Format: pretrain.Paragraphs}
	before, err := pretrain.Perplexity(ctx, m, tok, []string{evalTxt}, po)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(stdout, "  held-out perplexity before pretraining: %.1f (%d masked tokens)\n", before.Perplexity, before.Tokens)
	if c.pretrainSteps == 0 {
		fmt.Fprintf(stdout, "  pretraining skipped (-pretrain-steps 0)\n\n")
		return initDir, tok, nil
	}

	o := pretrain.DefaultTrainOptions()
	o.Model = initDir
	o.Corpora = map[string][]string{"": {trainTxt}}
	o.Corpus = pretrain.CorpusOptions{Format: pretrain.Paragraphs}
	o.OutDir = filepath.Join(c.out, "pretrain")
	o.MaxSteps = c.pretrainSteps
	o.BatchSize = 16
	o.LR = c.pretrainLR
	o.WarmupRatio = 0.06
	o.BlockSize = c.maxLen
	o.ValidationFraction = 0
	o.EvalEachEpoch = false
	o.SaveSteps = 0
	o.SaveTotalLimit = 1
	o.LogSteps = 50
	o.Seed = c.seed
	o.Device = torchutil.DeviceString(dev)
	o.OverwriteOutputDir = c.overwrite
	o.Log = stderr
	fmt.Fprintf(stdout, "  continued masked-LM pretraining: %d steps, batch %d, blocks of %d, lr %g\n", o.MaxSteps, o.BatchSize, o.BlockSize, o.LR)
	res, err := pretrain.Train(ctx, o)
	if err != nil {
		return "", nil, err
	}
	after, _, err := bert.LoadForMaskedLM(res.FinalDir, bert.LoadOptions{Device: dev})
	if err != nil {
		return "", nil, err
	}
	pa, err := pretrain.Perplexity(ctx, after, tok, []string{evalTxt}, po)
	if err != nil {
		return "", nil, err
	}
	fmt.Fprintf(stdout, "  held-out perplexity after %d steps: %.1f (was %.1f)\n\n", o.MaxSteps, pa.Perplexity, before.Perplexity)
	return res.FinalDir, tok, nil
}

// writeNotes writes the embedded clinical notes to dir: every tenth note
// to eval.txt (held out), the others to train.txt; one sentence a line, a
// blank line between notes.
func writeNotes(dir string) (train, eval string, nTrain, nEval int, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", 0, 0, err
	}
	var tb, eb strings.Builder
	for i, note := range strings.Split(demodata.ClinicalText(), "\n\n") {
		note = strings.TrimSpace(note)
		if note == "" {
			continue
		}
		if i%10 == 9 {
			eb.WriteString(note + "\n\n")
			nEval++
		} else {
			tb.WriteString(note + "\n\n")
			nTrain++
		}
	}
	train, eval = filepath.Join(dir, "train.txt"), filepath.Join(dir, "eval.txt")
	if err := atomicfile.WriteFiles(atomicfile.File{Path: train, Data: []byte(tb.String())}, atomicfile.File{Path: eval, Data: []byte(eb.String())}); err != nil {
		return "", "", 0, 0, err
	}
	return train, eval, nTrain, nEval, nil
}

// writeNER copies the embedded NER corpus (CLINpt's column format) to dir.
func writeNER(dir string) error {
	_, err := demodata.WriteNER(dir, 0)
	return err
}

// indentWriter prefixes every line with a string.
type indentWriter struct {
	w      io.Writer
	prefix string
	bol    bool
}

func indent(w io.Writer, prefix string) io.Writer {
	return &indentWriter{w: w, prefix: prefix, bol: true}
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	var b strings.Builder
	for _, r := range string(p) {
		if iw.bol && r != '\n' {
			b.WriteString(iw.prefix)
		}
		b.WriteRune(r)
		iw.bol = r == '\n'
	}
	if _, err := io.WriteString(iw.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}
