package cli

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// NERHelp words the help texts of NERTrain's flags for one program.
type NERHelp struct {
	// Docs is what the corpus's documents are called in the -train and
	// -dev help: "documents" (CLINpt), "notes" (SemClinBr).
	Docs string
	// Malformed is what -lenient skips: "rows", "annotations".
	Malformed string
	// PerGroup says the program trains one model per entity group: -epochs
	// and -max-steps count per group, -seed seeds the heads.
	PerGroup bool
	// Resume adds -resume (continue from the output directory's checkpoint).
	Resume bool
	// Seeds adds -seeds (a seed sweep, see SeedSweep and NERTrain.Seeds).
	Seeds bool
	// SplitFiles gives -train, -dev and -test biobertpt train-ner's meaning:
	// the files of a corpus that comes split, with -split the train,dev
	// fractions ("0.6,0.2") of the document groups. Without it -train and
	// -dev are those fractions, -split a directory of file lists and
	// -train-file, -dev-file and -test-file the files.
	SplitFiles bool
	// Recipe adds the rest of biobertpt train-ner's recipe: -config and
	// -vocab (a model trained from scratch, with -model then without a
	// default), -tokenizer, -stride, -max-grad-norm (and its alias -clip),
	// -scheme, -early-stopping, -save-total-limit, -label-all,
	// -balance-classes, -crf, -decode and -splitter; -name is left out
	// (no results.json), and -stride keeps the value given.
	Recipe bool
}

// NERTrain holds the fine-tuning flags that ner-clinpt and ner-semclinbr
// share: the model and the output (-model, -name, -out), the training
// recipe (-epochs, -lr, -batch, -eval-batch, -grad-accum, -max-len,
// -weight-decay, -warmup-ratio, -seed, -device, -precision, -cuda-graph,
// -max-memory, -max-steps, -log-steps, -save-steps, -dist-timeout, -overwrite and, with
// NERHelp.Resume, -resume),
// the document split (-train, -dev, -split) and -lenient. Bind them with
// BindNERTrain; after fs.Parse, Options and Split turn them into
// ner.TrainOptions and a ner.Split.
type NERTrain struct {
	// Model is -model: a Hub id or a directory (default mBERT,
	// bert-base-multilingual-cased).
	Model string
	// Out is -out, the output directory (required).
	Out string
	// Lenient is -lenient.
	Lenient bool
	// Config is -config and Vocab -vocab (or -tokenizer), with
	// NERHelp.Recipe: a model trained from scratch from config.json and its
	// vocabulary, instead of -model.
	Config, Vocab string

	h                        NERHelp
	splitS, schemeS, decodeS string
	splitterS                string

	name       string
	o          ner.TrainOptions
	train, dev float64
	splitDir   string
	files      ner.SplitFiles
	seeds      string
}

// BindNERTrain defines NERTrain's flags on fs with def's values as defaults
// (a 0.6/0.2 document split, -lenient off) and help texts worded by h.
func BindNERTrain(fs *flag.FlagSet, def ner.TrainOptions, h NERHelp) *NERTrain {
	f := &NERTrain{o: def, h: h}
	if h.Recipe {
		fs.StringVar(&f.Model, "model", "", "pretrained model to fine-tune: Hub id or directory (or -config with -vocab)")
		bindRecipe(fs, f, def)
	} else {
		fs.StringVar(&f.Model, "model", "bert-base-multilingual-cased", "model to fine-tune: Hub id or directory")
		fs.StringVar(&f.name, "name", "", "model name in results.json and examples/compare's tables (default: -model's last element)")
	}
	fs.StringVar(&f.Out, "out", "", "output directory (required)")
	epochs, heads, stop := "epochs", "head's", "stop after"
	if h.PerGroup {
		epochs, heads, stop = "epochs per group", "heads'", "stop each group after"
	}
	fs.IntVar(&f.o.Epochs, "epochs", def.Epochs, epochs)
	fs.Float64Var(&f.o.LR, "lr", def.LR, "peak AdamW learning rate")
	fs.IntVar(&f.o.BatchSize, "batch", def.BatchSize, "batch size")
	fs.IntVar(&f.o.EvalBatchSize, "eval-batch", def.EvalBatchSize, "batch size of dev/test prediction")
	fs.IntVar(&f.o.GradAccum, "grad-accum", def.GradAccum, "batches per optimizer step (effective batch -batch × -grad-accum)")
	fs.IntVar(&f.o.LogSteps, "log-steps", def.LogSteps, "a metrics line every N steps (losses are read from the device that often)")
	fs.BoolVar(&f.o.CUDAGraph, "cuda-graph", def.CUDAGraph, "record a micro-batch's forward and backward as a CUDA graph and replay it (CUDA; batches padded to -batch × -max-len; not with fp16)")
	fs.Float64Var(&f.o.MaxMemoryGiB, "max-memory", def.MaxMemoryGiB, "cap on memory in GiB (CUDA: the allocator refuses to grow past it, e.g. 11 to check a 12 GB card; CPU: peak RSS checked each step); 0: none")
	fs.Func("precision", "compute precision: fp32; bf16 (bf16 matmuls, fp32 master weights: CUDA GPUs with bf16, slow on the CPU); fp16 (CUDA only, with dynamic loss scaling: GPUs without bf16) (default "+string(def.Precision)+")", func(v string) error {
		p, err := bert.ParsePrecision(v)
		f.o.Precision = p
		return err
	})
	fs.IntVar(&f.o.MaxLen, "max-len", def.MaxLen, "longest window in sub-tokens (longer sentences are windowed)")
	fs.Float64Var(&f.o.WeightDecay, "weight-decay", def.WeightDecay, "AdamW weight decay")
	fs.Float64Var(&f.o.WarmupRatio, "warmup-ratio", def.WarmupRatio, "fraction of steps of linear warmup")
	fs.Int64Var(&f.o.Seed, "seed", def.Seed, "seed of the split, the "+heads+" initialisation and the shuffling")
	if h.SplitFiles {
		bindSplitFiles(fs, f, h)
	} else {
		fs.Float64Var(&f.train, "train", 0.6, "as a fraction (biobertpt train-ner's -train names a file): the fraction of "+h.Docs+" for training")
		fs.Float64Var(&f.dev, "dev", 0.2, "as a fraction (biobertpt train-ner's -dev names a file): the fraction of "+h.Docs+" for development (the rest is the test split)")
		fs.StringVar(&f.splitDir, "split", "", "read the split from this directory's train.txt, dev.txt, test.txt instead (a directory here; in biobertpt train-ner, -split takes the train,dev fractions)")
		fs.StringVar(&f.files.Train, "train-file", "", "a corpus that comes split: the training file or directory (instead of -data)")
		fs.StringVar(&f.files.Dev, "dev-file", "", "with -train-file: the dev file or directory (default: -dev/(-train + -dev) of the training "+h.Docs+", seeded by -seed)")
		fs.StringVar(&f.files.Test, "test-file", "", "with -train-file: the test file or directory")
	}
	fs.BoolVar(&f.Lenient, "lenient", false, "skip malformed "+h.Malformed+" with a warning instead of failing")
	fs.StringVar(&f.o.Device, "device", def.Device, "cpu, cuda or cuda:N")
	fs.IntVar(&f.o.MaxSteps, "max-steps", def.MaxSteps, stop+" this many optimizer steps (0: no limit; for smoke tests)")
	if h.Resume {
		fs.BoolVar(&f.o.Resume, "resume", def.Resume, "continue the run in -out from its newest valid checkpoint (same data and options, checked against its run.json)")
	}
	if h.Seeds {
		fs.StringVar(&f.seeds, "seeds", "", "seed sweep: one run per seed (e.g. 1,2,3) in -out/seed-N, then -out/summary.json and summary.md (mean ± sd over the seeds)")
	}
	fs.BoolVar(&f.o.OverwriteOutputDir, "overwrite", def.OverwriteOutputDir, "-out holds another run: move it aside (to <out>.previous-<time>) and start afresh")
	fs.DurationVar(&f.o.DistTimeout, "dist-timeout", def.DistTimeout, "with several processes (torchrun, srun, biobertpt launch): longest wait for the rendezvous and for every gradient exchange; a rank that died or stalled fails the others after it (0: 30m)")
	fs.IntVar(&f.o.SaveSteps, "save-steps", def.SaveSteps, "also write a checkpoint every N optimizer steps (0: at epoch ends only)")
	return f
}

// bindSplitFiles defines -train, -dev and -test as files and -split as
// the train,dev fractions (NERHelp.SplitFiles).
func bindSplitFiles(fs *flag.FlagSet, f *NERTrain, h NERHelp) {
	f.train, f.dev = 0.6, 0.2
	fs.StringVar(&f.splitS, "split", "0.6,0.2", "train,dev fractions of the document groups, the test split is the rest (fractions here; in examples/ner-clinpt and ner-semclinbr, -split is a directory of file lists)")
	fs.StringVar(&f.files.Train, "train", "", "training file or directory of a corpus that comes split, instead of -data (a file here; in examples/ner-clinpt and ner-semclinbr, -train is a fraction)")
	fs.StringVar(&f.files.Dev, "dev", "", "with -train: the dev file (default: a seeded share of -train's "+h.Docs+", dev/(train+dev) of -split; a file here, a fraction in examples/ner-clinpt and ner-semclinbr)")
	fs.StringVar(&f.files.Test, "test", "", "with -train: the test file (default: none, no test report)")
}

// bindRecipe defines the flags NERHelp.Recipe adds.
func bindRecipe(fs *flag.FlagSet, f *NERTrain, def ner.TrainOptions) {
	fs.StringVar(&f.Config, "config", "", "config.json of a model trained from scratch (with -vocab, instead of -model)")
	fs.StringVar(&f.Vocab, "tokenizer", "", "tokenizer directory or vocab.txt (default: the model directory)")
	fs.StringVar(&f.Vocab, "vocab", "", "vocab.txt of the model trained from scratch (the same as -tokenizer)")
	fs.StringVar(&f.splitterS, "splitter", string(def.WordSplitter), "the word splitting the corpus has, recorded for prediction on raw text: clinical, bert or whitespace (default: bert for semclinbr and brat, whose words are BERT's pre-tokenization of the text, else clinical)")
	fs.StringVar(&f.decodeS, "decode", "viterbi", "dev/test decoding: viterbi (the best tag sequence the scheme allows) or argmax")
	fs.BoolVar(&f.o.CRF, "crf", def.CRF, "a linear-chain CRF on the classifier (loss: its NLL; weights in best/crf.safetensors); not with -cuda-graph, -balance-classes or -label-all")
	fs.IntVar(&f.o.Stride, "stride", def.Stride, "sub-tokens shared by consecutive windows of a long sentence")
	fs.Float64Var(&f.o.MaxGradNorm, "max-grad-norm", def.MaxGradNorm, "gradient clipping max norm (0 = off)")
	fs.Var(floatAlias{p: &f.o.MaxGradNorm, of: "max-grad-norm"}, "clip", "the same as -max-grad-norm")
	fs.StringVar(&f.schemeS, "scheme", "iob2", "tagging scheme the model learns: iob2 or iobes (also iob1, io, ioe1, ioe2, bilou)")
	fs.IntVar(&f.o.EarlyStopping, "early-stopping", def.EarlyStopping, "stop after this many epochs without a better dev F1 (0 = off)")
	fs.IntVar(&f.o.SaveTotalLimit, "save-total-limit", def.SaveTotalLimit, "checkpoints kept, the best one besides (0: all)")
	fs.BoolVar(&f.o.LabelAll, "label-all", def.LabelAll, "label every sub-token of a word (default: only the first)")
	fs.BoolVar(&f.o.BalanceClasses, "balance-classes", def.BalanceClasses, "weigh the loss by inverse label frequency")
}

// Rules returns the ranges of NERTrain's numeric flags and -device, for
// ParseFlags: each flag is named in the error rather than the option field
// behind it.
func (f *NERTrain) Rules() []Rule {
	rules := []Rule{
		AtLeast("epochs", 1), Above("lr", 0), AtLeast("batch", 1), AtLeast("eval-batch", 1),
		AtLeast("grad-accum", 1), AtLeast("log-steps", 0), AtLeast("save-steps", 0), AtLeast("max-memory", 0),
		AtLeast("max-len", 3), AtLeast("weight-decay", 0), AtLeast("warmup-ratio", 0), AtMost("warmup-ratio", 1),
	}
	if f.h.SplitFiles {
		rules = append(rules, Check("split", func(v any) error {
			s, _ := v.(string)
			var err error
			f.train, f.dev, err = ParseFractions(s)
			return err
		}))
	} else {
		rules = append(rules, Above("train", 0), AtMost("train", 1), AtLeast("dev", 0), Below("dev", 1),
			Check("dev", func(v any) error {
				if d, _ := v.(float64); f.train+d > 1+1e-9 {
					return fmt.Errorf("want -train + -dev <= 1 (-train is %v)", f.train)
				}
				return nil
			}))
	}
	if f.h.Recipe {
		rules = append(rules, AtLeast("stride", 0), AtLeast("max-grad-norm", 0), AtLeast("early-stopping", 0), AtLeast("save-total-limit", 0),
			OneOf("splitter", "", "clinical", "bert", "whitespace"), OneOf("decode", "viterbi", "argmax"),
			Check("scheme", func(v any) error {
				s, _ := v.(string)
				_, err := ner.ParseScheme(s)
				return err
			}))
	}
	return append(rules, AtLeast("max-steps", 0), AtLeast("dist-timeout", 0), Device("device"))
}

// ParseFractions reads -split's "train,dev" fractions of the document
// groups (NERHelp.SplitFiles): 0 < train <= 1, dev >= 0, train+dev <= 1.
func ParseFractions(s string) (train, dev float64, err error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("want train,dev fractions such as 0.6,0.2")
	}
	train, err1 := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
	dev, err2 := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("want train,dev fractions such as 0.6,0.2")
	}
	// The negated form also refuses NaN.
	if !(train > 0 && train <= 1 && dev >= 0 && train+dev <= 1+1e-9) {
		return 0, 0, fmt.Errorf("want 0 < train <= 1, dev >= 0 and train+dev <= 1")
	}
	return train, dev, nil
}

// Options returns the training options with OutDir -out and Log log. The
// window stride shrinks to at most (max-len−3)/4 so that short -max-len
// values stay valid. A missing -out, a bad -device or an invalid option is
// a usage error.
func (f *NERTrain) Options(log io.Writer) (ner.TrainOptions, error) {
	if f.Out == "" {
		return ner.TrainOptions{}, Usagef("-out is required")
	}
	if _, err := torchutil.ParseDevice(f.o.Device); err != nil {
		return ner.TrainOptions{}, Usagef("-device: %v", err)
	}
	o := f.o
	o.OutDir, o.Log = f.Out, log
	if f.h.Recipe {
		var err error
		if o.Scheme, err = ner.ParseScheme(f.schemeS); err != nil {
			return ner.TrainOptions{}, Usagef("-scheme: %v", err)
		}
		if o.Decode, err = ner.ParseDecode(f.decodeS); err != nil {
			return ner.TrainOptions{}, Usagef("-decode: %v", err)
		}
		o.WordSplitter = tokenize.WordSplitter(f.splitterS)
	} else {
		o.Stride = min(o.Stride, max(0, (o.MaxLen-3)/4))
	}
	if err := o.Validate(); err != nil {
		return ner.TrainOptions{}, Usagef("%v", err)
	}
	return o, nil
}

// ModelName is the model's name in results.json: -name, or -model's last
// element (ModelName).
func (f *NERTrain) ModelName() string { return ModelName(f.name, f.Model) }

// Seeds is -seeds ("" without a sweep): the program then runs SeedSweep
// with its own arguments instead of training once.
func (f *NERTrain) Seeds() string { return f.seeds }

// Fractions returns the train and dev fractions of the document groups:
// -split's with NERHelp.SplitFiles (after ParseFlags with Rules), else
// -train and -dev.
func (f *NERTrain) Fractions() (train, dev float64) { return f.train, f.dev }

// Files returns -train-file, -dev-file and -test-file (-train, -dev and
// -test with NERHelp.SplitFiles).
func (f *NERTrain) Files() ner.SplitFiles { return f.files }

// ReadSplit reads the corpus and splits it: with -train-file, the files
// given (ner.SplitFromFiles; without -dev-file, -dev/(-train + -dev) of
// the training file's documents, seeded by -seed, are the dev part);
// otherwise read(data), split by Split. It returns the corpus the split
// came from (the training file's with -train-file). -dev-file or
// -test-file without -train-file, or neither -data nor -train-file, is a
// usage error.
func (f *NERTrain) ReadSplit(data string, read func(path string) (*ner.Corpus, error)) (*ner.Corpus, ner.Split, error) {
	if f.files.Train == "" {
		if f.files.Dev != "" || f.files.Test != "" {
			return nil, ner.Split{}, Usagef("-dev-file and -test-file need -train-file")
		}
		if data == "" {
			return nil, ner.Split{}, Usagef("-data or -train-file is required")
		}
		c, err := read(data)
		if err != nil {
			return nil, ner.Split{}, err
		}
		s, err := f.Split(c)
		return c, s, err
	}
	if data != "" || f.splitDir != "" {
		return nil, ner.Split{}, Usagef("-train-file: not with -data or -split (the files are the split)")
	}
	s, err := ner.SplitFromFiles(f.files, read, f.dev/(f.train+f.dev), f.o.Seed)
	if err != nil {
		return nil, ner.Split{}, err
	}
	return s.Train, s, nil
}

// Split splits c's documents: read from -split's file lists when given,
// else seeded by -seed into -train, -dev and the rest.
func (f *NERTrain) Split(c *ner.Corpus) (ner.Split, error) {
	if f.splitDir != "" {
		return ner.ReadFileLists(f.splitDir, c)
	}
	return ner.SplitDocuments(c, f.train, f.dev, f.o.Seed)
}

// DataName describes the data in results.json: data, or with -train-file
// the files given ("train=F dev=F test=F").
func (f *NERTrain) DataName(data string) string {
	if f.files.Train == "" {
		return data
	}
	parts := []string{"train=" + f.files.Train}
	if f.files.Dev != "" {
		parts = append(parts, "dev="+f.files.Dev)
	}
	if f.files.Test != "" {
		parts = append(parts, "test="+f.files.Test)
	}
	return strings.Join(parts, " ")
}

// floatAlias is a second flag name for a float64 flag's value: flag -of's
// (an Alias, so that range errors name the alias when it was given).
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
