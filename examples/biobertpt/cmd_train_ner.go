package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

func init() {
	register(command{name: "train-ner", summary: "fine-tune a BERT model for NER (BioBERTpt's recipe: AdamW 3e-5, batch 4, 10 epochs)", run: runTrainNER})
}

const trainNERUsage = `-corpus clinpt|semclinbr|conll|brat -data PATH|-train F [-dev F] [-test F] (-model DIR|NAME | -config config.json -vocab vocab.txt) -out DIR [flags]

Reads the corpus, splits its documents 60/20/20 (seeded, by document group;
or reads a corpus that comes split from -train, -dev and -test: without
-dev, dev/(train+dev) of -split's fractions of -train's document groups,
seeded, form the dev part; without -test no test report is written),
fine-tunes the model with a fresh token-classification head, keeps the best
model by dev F1 in OUT/best and writes the test report to OUT. -config and
-vocab train a randomly initialised model of that configuration instead
(seeded by -seed), the baseline a pretrained model is compared with.
OUT/best/ner_config.json records -splitter, the word splitting the corpus
has, which predict and eval-ner then use on raw text. -crf adds a CRF head. Ctrl-C or
SIGTERM saves a resumable checkpoint, OUT/checkpoint-<step>/, and exits with
status 1; -resume continues the run exactly where it stopped. OUT/run.json
records the run (corpus files and their SHA-256, the split, the model, every
option): a directory holding another run is refused unless -resume (same
data and options) or -overwrite (the old run is moved aside).

With -corpus semclinbr (or brat), -group G trains a binary model for one
UMLS group and -group all one model per group, each in OUT/<group> (spaces
and slashes in the name become "_"), as the paper does; then every group's
model tags the test split, the predictions are merged per word (a word
carries every group whose model puts it inside an entity) and scored with
label-based micro/macro precision, recall and F1 against the annotations'
label sets: OUT/test_multilabel.txt and .json (with each group's
entity-level scores; the full per-group reports are in OUT/<group>/).
The split's document lists are written to OUT/train.txt, dev.txt, test.txt.

-seeds 1,2,3 runs the whole command once per seed, into OUT/seed-1, ...,
then writes OUT/summary.json and OUT/summary.md: per-type, micro and macro
test precision, recall and F1 as mean ± sd and min–max over the seeds, the
best seed's model (by dev F1) and the total time. examples/compare takes
such a directory as one model and pairs its scores by seed.`

func runTrainNER(e *env, args []string) error {
	d := ner.DefaultTrainOptions()
	fs := newFlags(e, "train-ner", trainNERUsage)
	kind := fs.String("corpus", "", "corpus format: clinpt, semclinbr, conll or brat")
	data := fs.String("data", "", "corpus file or directory")
	model := fs.String("model", "", "pretrained model directory or name")
	vocab := fs.String("tokenizer", "", "tokenizer directory or vocab.txt (default: the model directory)")
	out := fs.String("out", "", "output directory")
	config := fs.String("config", "", "config.json of a model trained from scratch (with -vocab, instead of -model)")
	fs.StringVar(vocab, "vocab", "", "vocab.txt of the model trained from scratch (the same as -tokenizer)")
	splitter := fs.String("splitter", "", "the word splitting the corpus has, recorded for prediction on raw text: clinical, bert or whitespace (default: bert for semclinbr and brat, whose words are BERT's pre-tokenization of the text, else clinical)")
	decode := fs.String("decode", "viterbi", "dev/test decoding: viterbi (the best tag sequence the scheme allows) or argmax")
	useCRF := fs.Bool("crf", false, "a linear-chain CRF on the classifier (loss: its NLL; weights in best/crf.safetensors); not with -cuda-graph, -balance-classes or -label-all")
	epochs := fs.Int("epochs", d.Epochs, "training epochs")
	batch := fs.Int("batch", d.BatchSize, "batch size (windows)")
	evalBatch := fs.Int("eval-batch", d.EvalBatchSize, "batch size of dev/test prediction")
	lr := fs.Float64("lr", d.LR, "peak learning rate (AdamW)")
	maxLen := fs.Int("max-len", d.MaxLen, "maximum sub-tokens per window, [CLS]/[SEP] included")
	stride := fs.Int("stride", d.Stride, "sub-tokens shared by consecutive windows of a long sentence")
	warmup := fs.Float64("warmup-ratio", d.WarmupRatio, "fraction of steps with linear warmup")
	wd := fs.Float64("weight-decay", d.WeightDecay, "AdamW weight decay (not on biases and LayerNorm weights)")
	clip := fs.Float64("max-grad-norm", d.MaxGradNorm, "gradient clipping max norm (0 = off)")
	fs.Var(floatAlias{p: clip, of: "max-grad-norm"}, "clip", "the same as -max-grad-norm")
	seed := fs.Int64("seed", d.Seed, "random seed (split, head init, shuffling, dropout)")
	device := fs.String("device", d.Device, "cpu, cuda or cuda:N")
	splitS := fs.String("split", "0.6,0.2", "train,dev fractions of the document groups (test is the rest)")
	schemeS := fs.String("scheme", "iob2", "tagging scheme the model learns: iob2 or iobes (also iob1, io, ioe1, ioe2, bilou)")
	accum := fs.Int("grad-accum", d.GradAccum, "batches per optimizer step")
	early := fs.Int("early-stopping", 0, "stop after this many epochs without a better dev F1 (0 = off)")
	resume := fs.Bool("resume", false, "continue the run in OUT from its newest valid checkpoint (same data and options: checked against OUT/run.json)")
	overwrite := fs.Bool("overwrite", false, "OUT holds another run: move it aside (to OUT.previous-<time>) and start afresh")
	saveSteps := fs.Int("save-steps", d.SaveSteps, "also write a checkpoint every N optimizer steps (0: at epoch ends only)")
	saveLimit := fs.Int("save-total-limit", d.SaveTotalLimit, "checkpoints kept, the best one besides (0: all)")
	group := fs.String("group", "", "semclinbr: train a binary model for this UMLS group, or \"all\" for one model per group")
	labelAll := fs.Bool("label-all", false, "label every sub-token of a word (default: only the first)")
	balance := fs.Bool("balance-classes", false, "weigh the loss by inverse label frequency")
	lenient := fs.Bool("lenient", false, "turn corpus format errors into warnings")
	tagCol := fs.Int("tag-col", 0, "conll: 1-based tag column (0 = last, negative counts from the end)")
	corpusScheme := fs.String("corpus-scheme", "iob2", "conll: the scheme of the file's tags")
	maxSteps := fs.Int("max-steps", 0, "stop after this many optimizer steps (0 = no limit)")
	logSteps := fs.Int("log-steps", d.LogSteps, "a metrics line every N steps (losses are read from the device that often)")
	precision := fs.String("precision", string(d.Precision), "compute precision: fp32; bf16 (bf16 matmuls, fp32 master weights: CUDA GPUs with bf16, slow on the CPU); fp16 (CUDA only, with dynamic loss scaling: GPUs without bf16)")
	graph := fs.Bool("cuda-graph", false, "record a micro-batch's forward and backward as a CUDA graph and replay it (CUDA; batches padded to -batch × -max-len; not with fp16 or class weights)")
	distTimeout := fs.Duration("dist-timeout", 0, "with several processes (torchrun, srun, biobertpt launch): longest wait for the rendezvous and for every gradient exchange; a rank that died or stalled fails the others after it (0: 30m)")
	maxMem := fs.Float64("max-memory", 0, "cap on memory in GiB (CUDA: the allocator refuses to grow past it, e.g. 11 to check a 12 GB card; CPU: peak RSS checked each step); 0: none")
	quiet := fs.Bool("quiet", false, "no progress bar")
	var files ner.SplitFiles
	fs.StringVar(&files.Train, "train", "", "training file or directory of a corpus that comes split (instead of -data)")
	fs.StringVar(&files.Dev, "dev", "", "with -train: the dev file (default: a seeded share of -train's documents, dev/(train+dev) of -split)")
	fs.StringVar(&files.Test, "test", "", "with -train: the test file (default: none, no test report)")
	fs.StringVar(&d.Card.License, "license", "", "model card: the Hub license id of the trained model (default apache-2.0)")
	fs.Func("dataset", "model card: a dataset name or Hub id the model was trained on (repeat for several; default: the corpus files' directory)", func(v string) error {
		d.Card.Datasets = append(d.Card.Datasets, v)
		return nil
	})
	seedsS := fs.String("seeds", "", "seed sweep: one run per seed (e.g. 1,2,3) in OUT/seed-N, then OUT/summary.json and summary.md")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("epochs", 1), cli.AtLeast("batch", 1), cli.AtLeast("eval-batch", 1), cli.Above("lr", 0), cli.AtLeast("max-len", 3), cli.AtLeast("stride", 0), cli.AtLeast("warmup-ratio", 0), cli.AtMost("warmup-ratio", 1), cli.AtLeast("weight-decay", 0), cli.AtLeast("max-grad-norm", 0), cli.AtLeast("grad-accum", 1), cli.AtLeast("early-stopping", 0), cli.AtLeast("max-steps", 0), cli.AtLeast("log-steps", 0), cli.AtLeast("save-steps", 0), cli.AtLeast("save-total-limit", 0), cli.AtLeast("max-memory", 0), cli.AtLeast("dist-timeout", 0), cli.Device("device"),
		cli.OneOf("splitter", "", "clinical", "bert", "whitespace"), cli.OneOf("decode", "viterbi", "argmax")); err != nil {
		return err
	}
	if *kind == "" || (*data == "") == (files.Train == "") || (*model == "") == (*config == "") || *out == "" || fs.NArg() > 0 {
		return usagef("train-ner %s", trainNERUsage)
	}
	if *config != "" && *vocab == "" {
		return usagef("-config needs -vocab")
	}
	if *seedsS != "" {
		if strings.EqualFold(*group, "all") {
			return usagef("-seeds: not with -group all (sweep one group at a time)")
		}
		return runSeedSweep(e, args, *seedsS, *out)
	}
	scheme, err := ner.ParseScheme(*schemeS)
	if err != nil {
		return usagef("%v", err)
	}
	trainFrac, devFrac, err := parseFractions(*splitS)
	if err != nil {
		return err
	}
	if *group != "" && !strings.EqualFold(*kind, "semclinbr") && !strings.EqualFold(*kind, "brat") {
		return usagef("-group needs -corpus semclinbr (or brat)")
	}
	o := d
	o.Epochs, o.BatchSize, o.EvalBatchSize, o.LR, o.MaxLen, o.Stride = *epochs, *batch, *evalBatch, *lr, *maxLen, *stride
	o.WarmupRatio, o.WeightDecay, o.MaxGradNorm, o.Seed, o.Device = *warmup, *wd, *clip, *seed, *device
	o.Scheme, o.GradAccum, o.EarlyStopping, o.Resume, o.OverwriteOutputDir = scheme, *accum, *early, *resume, *overwrite
	o.SaveSteps, o.SaveTotalLimit, o.DistTimeout = *saveSteps, *saveLimit, *distTimeout
	o.LabelAll, o.BalanceClasses, o.MaxSteps, o.LogSteps, o.MaxMemoryGiB, o.CUDAGraph = *labelAll, *balance, *maxSteps, *logSteps, *maxMem, *graph
	if o.Precision, err = bert.ParsePrecision(*precision); err != nil {
		return usagef("-precision: %v", err)
	}
	o.WordSplitter, o.CRF = tokenize.WordSplitter(*splitter), *useCRF
	o.Decode, _ = ner.ParseDecode(*decode)
	o.OutDir = *out
	if !*quiet {
		o.Log = e.stderr
	}
	if err := o.Validate(); err != nil {
		return usagef("%v", err)
	}

	c, split, err := trainNERSplit(e, *kind, *data, files, *lenient, *tagCol, *corpusScheme, trainFrac, devFrac, *seed)
	if err != nil {
		return err
	}
	modelDir := *config
	if modelDir == "" {
		if modelDir, err = hub.Resolve(context.Background(), *model, hub.Options{}); err != nil {
			return err
		}
	}
	tokDir := *vocab
	if tokDir == "" {
		tokDir = modelDir
	}
	var tok *tokenize.Tokenizer
	if strings.HasSuffix(tokDir, ".txt") {
		tok, err = tokenize.LoadVocabFile(tokDir, tokenize.DefaultOptions())
	} else {
		tok, err = tokenize.Load(tokDir)
	}
	if err != nil {
		return err
	}
	groups := []string{""}
	if strings.EqualFold(*group, "all") {
		groups = ner.Types(c)
	} else if *group != "" {
		groups = []string{*group}
	}
	type run struct {
		group string
		o     ner.TrainOptions
		split ner.Split
	}
	var runs []run
	for _, g := range groups {
		so, sp := o, split
		if g != "" {
			sp = ner.Split{Train: ner.GroupCorpus(split.Train, g), Dev: ner.GroupCorpus(split.Dev, g), Test: ner.GroupCorpus(split.Test, g),
				Seed: split.Seed, TrainFraction: split.TrainFraction, DevFraction: split.DevFraction}
			if len(groups) > 1 {
				so.OutDir = filepath.Join(*out, ner.GroupFileName(g))
			}
		}
		// Before anything is written: refuse another run's directory (or
		// move it aside with -overwrite), check a resumed run's data.
		if err := ner.PrepareOutDir(modelDir, sp, so); err != nil {
			return err
		}
		runs = append(runs, run{g, so, sp})
	}
	if engine.IsOutDirWriter() { // rank 0 of a data-parallel run writes -out
		if err := split.WriteFileLists(*out); err != nil {
			return err
		}
	}
	ctx, stop := cli.SignalContext(context.Background())
	defer stop()

	var models []ner.GroupModel
	for _, r := range runs {
		g, so, sp := r.group, r.o, r.split
		if g != "" {
			fmt.Fprintf(e.stderr, "group %s\n", g)
		}
		res, err := ner.Train(ctx, modelDir, tok, sp, so)
		if err != nil {
			return err
		}
		models = append(models, ner.GroupModel{Group: g, Dir: res.BestDir})
		fmt.Fprintf(e.stdout, "best model: %s (%s)\n", res.BestDir, res.Best())
		if res.Test != nil {
			fmt.Fprintf(e.stdout, "test (%s):\n", filepath.Join(so.OutDir, ner.TestReportName))
			if err := res.Test.Report.WriteText(e.stdout, 4); err != nil {
				return err
			}
		}
	}
	if len(groups) > 1 && split.Test != nil && len(split.Test.Documents) > 0 {
		return mergeGroupModels(e, split.Test, models, o, *out)
	}
	return nil
}

// mergeGroupModels evaluates the per-group models together on the test
// split (ner.EvaluateGroups), writes OUT/test_multilabel.{txt,json} and
// prints the label-based summary.
func mergeGroupModels(e *env, test *ner.Corpus, models []ner.GroupModel, o ner.TrainOptions, out string) error {
	ge, err := ner.EvaluateGroups(test, models, ner.TaggerOptions{Device: o.Device, BatchSize: o.EvalBatchSize, MaxLen: o.MaxLen, Stride: o.Stride})
	if err != nil {
		return err
	}
	if err := ge.WriteFiles(out, "test_"); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "test, %d group models merged (%s):\n", len(models), filepath.Join(out, "test_"+ner.MultiLabelReportName))
	return ge.WriteText(e.stdout, 4)
}

// floatAlias is a second flag name for a float64 flag's value: flag -of's
// (a cli.Alias, so that range errors name the alias when it was given).
type floatAlias struct {
	p  *float64
	of string
}

// AliasOf returns the flag whose value f sets.
func (f floatAlias) AliasOf() string { return f.of }

func (f floatAlias) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

func (f floatAlias) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	*f.p = v
	return nil
}
