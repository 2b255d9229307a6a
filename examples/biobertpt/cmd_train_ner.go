package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

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

// trainNERFlags are train-ner's flags: the fine-tuning recipe bound by
// cli.BindNERTrain and the corpus's.
type trainNERFlags struct {
	train             *cli.NERTrain
	kind, data, group string
	corpusScheme      string
	tagCol            int
	quiet             bool
	card              ner.CardOptions
}

// parseTrainNER parses and checks train-ner's command line.
func parseTrainNER(e *env, args []string) (*trainNERFlags, error) {
	d := ner.DefaultTrainOptions()
	fs := newFlags(e, "train-ner", trainNERUsage)
	f := &trainNERFlags{}
	f.train = cli.BindNERTrain(fs, d, cli.NERHelp{Docs: "documents", Malformed: "rows or annotations (corpus format errors)", Resume: true, Seeds: true, SplitFiles: true, Recipe: true})
	fs.StringVar(&f.kind, "corpus", "", "corpus format: clinpt, semclinbr, conll or brat")
	fs.StringVar(&f.data, "data", "", "corpus file or directory")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.StringVar(&f.group, "group", "", "semclinbr: train a binary model for this UMLS group, or \"all\" for one model per group")
	fs.IntVar(&f.tagCol, "tag-col", 0, "conll: 1-based tag column (0 = last, negative counts from the end)")
	fs.StringVar(&f.corpusScheme, "corpus-scheme", "iob2", "conll: the scheme of the file's tags")
	fs.StringVar(&f.card.License, "license", "", "model card: the Hub license id of the trained model (default apache-2.0)")
	fs.Func("dataset", "model card: a dataset name or Hub id the model was trained on (repeat for several; default: the corpus files' directory)", func(v string) error {
		f.card.Datasets = append(f.card.Datasets, v)
		return nil
	})
	if err := cli.ParseFlags(fs, args, f.train.Rules()...); err != nil {
		return nil, err
	}
	t := f.train
	if f.kind == "" || (f.data == "") == (t.Files().Train == "") || (t.Model == "") == (t.Config == "") || t.Out == "" || fs.NArg() > 0 {
		return nil, usagef("train-ner %s", trainNERUsage)
	}
	if t.Config != "" && t.Vocab == "" {
		return nil, usagef("-config needs -vocab")
	}
	if t.Seeds() != "" && strings.EqualFold(f.group, "all") {
		return nil, usagef("-seeds: not with -group all (sweep one group at a time)")
	}
	if f.group != "" && !strings.EqualFold(f.kind, "semclinbr") && !strings.EqualFold(f.kind, "brat") {
		return nil, usagef("-group needs -corpus semclinbr (or brat)")
	}
	return f, nil
}

// trainNERRun is one model train-ner fine-tunes: the whole corpus's, or
// one UMLS group's.
type trainNERRun struct {
	group string
	o     ner.TrainOptions
	split ner.Split
}

func runTrainNER(e *env, args []string) error {
	f, err := parseTrainNER(e, args)
	if err != nil {
		return err
	}
	if s := f.train.Seeds(); s != "" {
		return runSeedSweep(e, args, s, f.train.Out)
	}
	var log io.Writer
	if !f.quiet {
		log = e.stderr
	}
	o, err := f.train.Options(log)
	if err != nil {
		return err
	}
	o.Card = f.card
	trainFrac, devFrac := f.train.Fractions()
	c, split, err := trainNERSplit(e, f.kind, f.data, f.train.Files(), f.train.Lenient, f.tagCol, f.corpusScheme, trainFrac, devFrac, o.Seed)
	if err != nil {
		return err
	}
	modelDir, tok, err := loadTrainNERModel(f.train)
	if err != nil {
		return err
	}
	groups := []string{""}
	if strings.EqualFold(f.group, "all") {
		groups = ner.Types(c)
	} else if f.group != "" {
		groups = []string{f.group}
	}
	var runs []trainNERRun
	for _, g := range groups {
		r := trainNERRun{g, o, split}
		if g != "" {
			r.split = ner.Split{Train: ner.GroupCorpus(split.Train, g), Dev: ner.GroupCorpus(split.Dev, g), Test: ner.GroupCorpus(split.Test, g),
				Seed: split.Seed, TrainFraction: split.TrainFraction, DevFraction: split.DevFraction}
			if len(groups) > 1 {
				r.o.OutDir = filepath.Join(o.OutDir, ner.GroupFileName(g))
			}
		}
		// Before anything is written: refuse another run's directory (or
		// move it aside with -overwrite), check a resumed run's data.
		if err := ner.PrepareOutDir(modelDir, r.split, r.o); err != nil {
			return err
		}
		runs = append(runs, r)
	}
	if engine.IsOutDirWriter() { // rank 0 of a data-parallel run writes -out
		if err := split.WriteFileLists(o.OutDir); err != nil {
			return err
		}
	}
	models, err := trainNERRuns(e, modelDir, tok, runs)
	if err != nil {
		return err
	}
	if len(groups) > 1 && split.Test != nil && len(split.Test.Documents) > 0 {
		return mergeGroupModels(e, split.Test, models, o, o.OutDir)
	}
	return nil
}

// loadTrainNERModel resolves -model (or -config) to a directory and loads
// the tokenizer: -vocab/-tokenizer, a directory or a vocab.txt, else the
// model directory's.
func loadTrainNERModel(t *cli.NERTrain) (string, *tokenize.Tokenizer, error) {
	modelDir := t.Config
	if modelDir == "" {
		var err error
		if modelDir, err = hub.Resolve(context.Background(), t.Model, hub.Options{}); err != nil {
			return "", nil, err
		}
	}
	tokDir := t.Vocab
	if tokDir == "" {
		tokDir = modelDir
	}
	var tok *tokenize.Tokenizer
	var err error
	if strings.HasSuffix(tokDir, ".txt") {
		tok, err = tokenize.LoadVocabFile(tokDir, tokenize.DefaultOptions())
	} else {
		tok, err = tokenize.Load(tokDir)
	}
	return modelDir, tok, err
}

// trainNERRuns fine-tunes each run's model in turn (stopped by Ctrl-C or
// SIGTERM, which save a checkpoint), prints its best dev score and test
// report, and returns the best models.
func trainNERRuns(e *env, modelDir string, tok *tokenize.Tokenizer, runs []trainNERRun) ([]ner.GroupModel, error) {
	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	var models []ner.GroupModel
	for _, r := range runs {
		if r.group != "" {
			fmt.Fprintf(e.stderr, "group %s\n", r.group)
		}
		res, err := ner.Train(ctx, modelDir, tok, r.split, r.o)
		if err != nil {
			return nil, err
		}
		models = append(models, ner.GroupModel{Group: r.group, Dir: res.BestDir})
		fmt.Fprintf(e.stdout, "best model: %s (%s)\n", res.BestDir, res.Best())
		if res.Test != nil {
			fmt.Fprintf(e.stdout, "test (%s):\n", filepath.Join(r.o.OutDir, ner.TestReportName))
			if err := res.Test.Report.WriteText(e.stdout, 4); err != nil {
				return nil, err
			}
		}
	}
	return models, nil
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
