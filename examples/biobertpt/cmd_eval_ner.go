package main

import (
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/ner"
)

func init() {
	register(command{name: "eval-ner", summary: "evaluate a NER model on an annotated corpus (conlleval predictions + report)", run: runEvalNER})
}

const evalNERUsage = `-model DIR -corpus clinpt|semclinbr|conll|brat -data PATH -out DIR [-device cpu] [-batch 32] [-lenient] [-decode viterbi|argmax]

Tags every sentence of the corpus and writes to OUT: predictions.txt
(conlleval's input: word gold predicted), conlleval.txt (conlleval.pl's
report), report.txt and report.json (entity-level scores, micro/macro/per
type). The text report is also printed.`

func runEvalNER(e *env, args []string) error {
	fs := newFlags(e, "eval-ner", evalNERUsage)
	model := fs.String("model", "", "model directory written by train-ner (OUT/best)")
	kind := fs.String("corpus", "", "corpus format: clinpt, semclinbr, conll or brat")
	data := fs.String("data", "", "corpus file or directory")
	out := fs.String("out", "", "output directory")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	batch := fs.Int("batch", 32, "windows per forward pass")
	maxLen := fs.Int("max-len", 0, "window length in sub-tokens (0 = 256, capped at the model's maximum)")
	lenient := fs.Bool("lenient", false, "turn corpus format errors into warnings")
	tagCol := fs.Int("tag-col", 0, "conll: 1-based tag column (0 = last, negative counts from the end)")
	corpusScheme := fs.String("corpus-scheme", "iob2", "conll: the scheme of the file's tags")
	tf := bindTagging(fs, false)
	if err := cli.ParseFlags(fs, args, append(tf.rules(), cli.AtLeast("batch", 1), cli.ZeroOrAtLeast("max-len", 3), cli.Device("device"))...); err != nil {
		return err
	}
	if *model == "" || *kind == "" || *data == "" || *out == "" || fs.NArg() > 0 {
		return usagef("eval-ner %s", evalNERUsage)
	}
	if err := resolveModel(model); err != nil {
		return err
	}
	c, err := readCorpus(*kind, *data, *lenient, *tagCol, *corpusScheme)
	if err != nil {
		return err
	}
	tg, err := ner.Load(*model, tf.options(ner.TaggerOptions{Device: *device, BatchSize: *batch, MaxLen: *maxLen}))
	if err != nil {
		return err
	}
	defer tg.Close()
	ev, err := tg.Evaluate(c)
	if err != nil {
		return err
	}
	if err := ev.WriteFiles(*out, ""); err != nil {
		return err
	}
	return ev.Report.WriteText(e.stdout, 4)
}
