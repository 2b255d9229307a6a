package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/ner"
)

func init() {
	register(command{name: "predict", summary: "tag entities in text lines with a fine-tuned NER model (JSON or CoNLL)", run: runPredict})
}

const predictUsage = `-model DIR [-format json|conll] [-splitter clinical|bert|whitespace] [-decode viterbi|argmax] [-device cpu] [-batch 32] [-max-len N] < text
   or: predict -model DIR -input PATH... [-output DIR] [-format json|jsonl|conll|brat|labelstudio]

Each stdin line is one text. -format json (default) writes one JSON array of
entities {"type","text","start","end","score"} per line, offsets in Unicode
code points of the line, end exclusive. -format conll writes each sentence
of the line as "word<TAB>tag" lines followed by a blank line.
Words are cut by the splitter the model directory's ner_config.json
records (bert when it has none) unless -splitter names one; tags are the
best sequence the labels' scheme allows unless -decode argmax.` + predictFilesUsage

func runPredict(e *env, args []string) error {
	fs := newFlags(e, "predict", predictUsage)
	model := fs.String("model", "", "model directory written by train-ner (OUT/best)")
	format := fs.String("format", "json", "output format: json or conll; with -input also jsonl, brat, labelstudio")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	batch := fs.Int("batch", 32, "windows per forward pass")
	maxLen := fs.Int("max-len", 0, "window length in sub-tokens (0 = 256, capped at the model's maximum)")
	files := bindPredictFiles(fs)
	tf := bindTagging(fs, true)
	if err := cli.ParseFlags(fs, args, append(tf.rules(), cli.AtLeast("batch", 1), cli.ZeroOrAtLeast("max-len", 3), cli.AtLeast("max-batch-tokens", 1),
		cli.OneOf("format", "json", "jsonl", "conll", "brat", "labelstudio"), cli.Device("device"))...); err != nil {
		return err
	}
	opts := tf.options(ner.TaggerOptions{Device: *device, BatchSize: *batch, MaxLen: *maxLen})
	if *model == "" || fs.NArg() > 0 {
		return usagef("predict %s", predictUsage)
	}
	if err := resolveModel(model); err != nil {
		return err
	}
	if files.active(*format) {
		return files.runModel(e, *model, opts, *format)
	}
	if *format != "json" && *format != "conll" {
		return usagef("-format %q: want json or conll", *format)
	}
	tg, err := ner.Load(*model, opts)
	if err != nil {
		return err
	}
	defer tg.Close()
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	w := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if *format == "json" {
			ents, err := tg.Predict(line)
			if err != nil {
				return fmt.Errorf("stdin:%d: %w", n, err)
			}
			if ents == nil {
				ents = []ner.Entity{}
			}
			if err := enc.Encode(ents); err != nil {
				return err
			}
			continue
		}
		sents := tg.Words(line)
		tags, err := tg.PredictSentences(sents)
		if err != nil {
			return fmt.Errorf("stdin:%d: %w", n, err)
		}
		for i, words := range sents {
			for j, wd := range words {
				fmt.Fprintf(w, "%s\t%s\n", wd, tags[i][j])
			}
			fmt.Fprintln(w)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return w.Flush()
}
