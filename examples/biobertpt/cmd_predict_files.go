package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/progress"
	"github.com/biobertpt-go/biobertpt/ner"
)

// predictFormats are the output formats of predict over files, with the
// extension of their output files.
var predictFormats = map[string]string{
	"json":        ".json",
	"jsonl":       ".jsonl",
	"conll":       ".conll",
	"brat":        ".ann",
	"labelstudio": ".json",
}

const predictFilesUsage = `
With -input (files, directories: every *.txt below them, or - for stdin;
repeatable) or -output, predict reads whole inputs, tags their lines in
batches across documents (a progress bar with documents, tokens/s and ETA on
stderr) and writes one output per input into -output DIR (atomically; the
input's name with the format's extension, a directory's files under their
relative paths), or everything to stdout without -output. Every non-blank
line is a document. Formats:
  json         one JSON array of entities per input line, blank lines too
               (what predict writes without -input)
  jsonl        one object per document: {"id": "FILE:LINE", "source", "line",
               "text", "entities"}
  conll        "-DOCSTART-<TAB>FILE:LINE", a blank line, then each sentence
               as word<TAB>tag lines and a blank line
  brat         FILE.txt (the input) and FILE.ann with T lines, character
               offsets into the file, types with spaces written with _
               (annotation.conf lists them); needs -output
  labelstudio  a JSON array of tasks {"data": {"text", "source", "line"},
               "predictions": [{"model_version", "score", "result"}]}
               for a labeling config with <Labels name="label"
               toName="text"> (written as label_config.xml)`

// predictFiles is predict's batch mode over files.
type predictFiles struct {
	inputs    inputFlags
	output    string
	maxTokens int
}

type inputFlags []string

func (f *inputFlags) String() string     { return strings.Join(*f, ",") }
func (f *inputFlags) Set(v string) error { *f = append(*f, v); return nil }

// bindPredictFiles defines -input, -output and -max-batch-tokens on fs.
func bindPredictFiles(fs *flag.FlagSet) *predictFiles {
	p := &predictFiles{}
	fs.Var(&p.inputs, "input", "input file, directory (its *.txt files) or - (stdin); repeatable; switches to batch mode")
	fs.StringVar(&p.output, "output", "", "output directory of batch mode (one output per input); default stdout")
	fs.IntVar(&p.maxTokens, "max-batch-tokens", 8192, "batch mode: sub-tokens of documents tagged together")
	return p
}

// active reports whether the command line asks for batch mode.
func (p *predictFiles) active(format string) bool {
	return len(p.inputs) > 0 || p.output != "" || format == "jsonl" || format == "brat" || format == "labelstudio"
}

// predictInput is one input with its lines.
type predictInput struct {
	name  string   // as shown in ids: the path, or "stdin"
	out   string   // output path; "" for stdout
	text  string   // the whole input
	lines []string // without "\n" (and a final "\r")
	offs  []int    // each line's start in text, in runes
	first int      // index of its first document
	n     int      // its documents
}

// predictDoc is one document: a line of an input.
type predictDoc struct {
	input, line int // line from 1
	text        string
	runeOff     int // the line's start in the input, in runes
	tokens      int
	ents        []ner.Entity
	words, tags [][]string // conll
}

// runModel checks the flags, reads the inputs, loads the model and runs
// batch mode.
func (p *predictFiles) runModel(e *env, model string, o ner.TaggerOptions, format string) error {
	switch {
	case p.maxTokens < 1:
		return usagef("-max-batch-tokens %d: want >= 1", p.maxTokens)
	case o.BatchSize < 1:
		return usagef("-batch %d: want >= 1", o.BatchSize)
	case o.MaxLen < 0:
		return usagef("-max-len %d: want >= 0", o.MaxLen)
	}
	if _, ok := predictFormats[format]; !ok {
		return usagef("-format %q: want json, jsonl, conll, brat or labelstudio", format)
	}
	if format == "brat" && p.output == "" {
		return usagef("-format brat writes .txt and .ann files: give -output DIR")
	}
	if len(p.inputs) == 0 {
		p.inputs = inputFlags{"-"}
	}
	inputs, err := p.readInputs(e, format)
	if err != nil {
		return err
	}
	tg, err := ner.Load(model, o)
	if err != nil {
		return err
	}
	defer tg.Close()
	return p.run(e, tg, inputs, format, filepath.Base(strings.TrimRight(model, "/"+string(filepath.Separator))))
}

func (p *predictFiles) run(e *env, tg *ner.Tagger, inputs []predictInput, format, modelName string) error {
	var docs []predictDoc
	for i := range inputs {
		in := &inputs[i]
		in.first = len(docs)
		for j, l := range in.lines {
			if format == "json" || strings.TrimSpace(l) != "" {
				docs = append(docs, predictDoc{input: i, line: j + 1, text: l, runeOff: in.offs[j], tokens: tg.CountTokens(l)})
			}
		}
		in.n = len(docs) - in.first
	}
	st := &predictStream{}
	if p.output == "" && format == "labelstudio" {
		io.WriteString(e.stdout, "[") // one array over every input
	}
	ctx, stop := signalContext(context.Background())
	defer stop()
	err := tagDocuments(ctx, e, tg, docs, inputs, format, p.maxTokens, func(i int) error {
		return writePrediction(e, &inputs[i], docs[inputs[i].first:inputs[i].first+inputs[i].n], format, modelName, st)
	})
	if err != nil {
		return err
	}
	if p.output != "" {
		return writeSideFiles(p.output, format, tg.Info().Types)
	}
	if format == "labelstudio" {
		if _, err := io.WriteString(e.stdout, "\n]\n"); err != nil {
			return fmt.Errorf("predict: write stdout: %w", err)
		}
	}
	return nil
}

// predictStream is the state of stdout across inputs.
type predictStream struct {
	tasks int // Label Studio tasks written
}

// readInputs resolves -input values into inputs and their output paths.
func (p *predictFiles) readInputs(e *env, format string) ([]predictInput, error) {
	ext := predictFormats[format]
	var inputs []predictInput
	outs := map[string]string{}
	add := func(name, rel, text string) error {
		in := predictInput{name: name, text: text}
		in.lines, in.offs = splitLines(text)
		if p.output != "" {
			in.out = filepath.Join(p.output, strings.TrimSuffix(rel, filepath.Ext(rel))+ext)
			if prev, dup := outs[in.out]; dup {
				return usagef("inputs %s and %s would both be written to %s", prev, name, in.out)
			}
			outs[in.out] = name
		}
		inputs = append(inputs, in)
		return nil
	}
	stdinUsed := false
	for _, path := range p.inputs {
		if path == "-" {
			if stdinUsed {
				return nil, usagef("-input - given twice")
			}
			stdinUsed = true
			b, err := io.ReadAll(e.stdin)
			if err != nil {
				return nil, fmt.Errorf("predict: read stdin: %w", err)
			}
			if err := add("stdin", "stdin", string(b)); err != nil {
				return nil, err
			}
			continue
		}
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("predict: -input: %w", err)
		}
		if !st.IsDir() {
			b, err := os.ReadFile(path)
			if err != nil {
				return nil, fmt.Errorf("predict: -input: %w", err)
			}
			if err := add(path, filepath.Base(path), string(b)); err != nil {
				return nil, err
			}
			continue
		}
		var files []string
		err = filepath.WalkDir(path, func(f string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && strings.EqualFold(filepath.Ext(f), ".txt") {
				files = append(files, f)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("predict: -input %s: %w", path, err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("predict: -input %s: no .txt file in the directory", path)
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("predict: -input: %w", err)
			}
			rel, err := filepath.Rel(path, f)
			if err != nil {
				return nil, fmt.Errorf("predict: -input %s: %w", f, err)
			}
			if err := add(f, rel, string(b)); err != nil {
				return nil, err
			}
		}
	}
	for _, in := range inputs {
		if !utf8.ValidString(in.text) {
			return nil, fmt.Errorf("predict: %s: not valid UTF-8", in.name)
		}
	}
	return inputs, nil
}

// splitLines splits text at "\n" and drops a "\r" before it, as
// bufio.Scanner reads lines (a final "\n" ends the last line), and returns
// the lines' rune offsets in text.
func splitLines(text string) (lines []string, offs []int) {
	off := 0
	for len(text) > 0 {
		l := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			l, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		lines = append(lines, strings.TrimSuffix(l, "\r"))
		offs = append(offs, off)
		off += utf8.RuneCountInString(l) + 1
	}
	return lines, offs
}

// tagDocuments tags docs in batches of at most maxTokens sub-tokens, two
// batches in flight (one is tokenized while the other runs), and calls
// flush(i) for each input, in order, as soon as its documents are done.
func tagDocuments(ctx context.Context, e *env, tg *ner.Tagger, docs []predictDoc, inputs []predictInput, format string, maxTokens int, flush func(int) error) error {
	var chunks [][2]int // [from, to) into docs
	for from := 0; from < len(docs); {
		to, tokens := from+1, docs[from].tokens
		for to < len(docs) && tokens+docs[to].tokens <= maxTokens {
			tokens += docs[to].tokens
			to++
		}
		chunks = append(chunks, [2]int{from, to})
		from = to
	}
	bar := progress.NewCounter(e.stderr, len(docs), "documents", progress.Options{Prefix: "predict"})
	work := make(chan int)
	type doneChunk struct {
		i   int
		err error
	}
	results := make(chan doneChunk, len(chunks))
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel() // stops the feeding on an early return
		wg.Wait()
	}()
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results <- doneChunk{i, tagChunk(ctx, tg, docs[chunks[i][0]:chunks[i][1]], format)}
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range chunks {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()

	done := make([]bool, len(chunks))
	next := 0 // first input not flushed
	upTo := 0 // chunks 0..upTo-1 are all done
	for n := 0; n < len(chunks); n++ {
		var r doneChunk
		select {
		case r = <-results:
		case <-ctx.Done():
			return fmt.Errorf("predict: %w", ctx.Err())
		}
		if r.err != nil {
			return r.err
		}
		done[r.i] = true
		tokens := 0
		for _, d := range docs[chunks[r.i][0]:chunks[r.i][1]] {
			tokens += d.tokens
		}
		bar.Add(chunks[r.i][1]-chunks[r.i][0], int64(tokens))
		for upTo < len(chunks) && done[upTo] {
			upTo++
		}
		doneDocs := len(docs)
		if upTo < len(chunks) {
			doneDocs = chunks[upTo][0]
		}
		for next < len(inputs) && inputs[next].first+inputs[next].n <= doneDocs {
			if err := flush(next); err != nil {
				return err
			}
			next++
		}
	}
	for ; next < len(inputs); next++ { // inputs without documents
		if err := flush(next); err != nil {
			return err
		}
	}
	return bar.Finish()
}

// tagChunk tags one batch of documents: entities, or for conll the tags of
// each sentence's words.
func tagChunk(ctx context.Context, tg *ner.Tagger, docs []predictDoc, format string) error {
	if format == "conll" {
		var sents [][]string
		for i := range docs {
			docs[i].words = tg.Words(docs[i].text)
			sents = append(sents, docs[i].words...)
		}
		tags, err := tg.PredictSentences(sents)
		if err != nil {
			return err
		}
		k := 0
		for i := range docs {
			docs[i].tags = tags[k : k+len(docs[i].words)]
			k += len(docs[i].words)
		}
		return nil
	}
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.text
	}
	ents, err := tg.PredictTexts(ctx, texts)
	if err != nil {
		return err
	}
	for i := range docs {
		docs[i].ents = ents[i]
	}
	return nil
}

// writePrediction writes one input's output: its file (atomically) or
// stdout.
func writePrediction(e *env, in *predictInput, docs []predictDoc, format, modelName string, st *predictStream) error {
	write := func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if in.out != "" {
			st = &predictStream{} // a file of its own
		}
		if err := formatPrediction(bw, in, docs, format, modelName, st); err != nil {
			return err
		}
		return bw.Flush()
	}
	if in.out == "" {
		if err := write(e.stdout); err != nil {
			return fmt.Errorf("predict: write %s's predictions: %w", in.name, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(in.out), 0o755); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if err := atomicfile.WriteFile(in.out, write); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if format == "brat" {
		txt := strings.TrimSuffix(in.out, ".ann") + ".txt"
		if err := atomicfile.WriteBytes(txt, []byte(in.text)); err != nil {
			return fmt.Errorf("predict: %w", err)
		}
	}
	return nil
}

// jsonlRecord is one line of -format jsonl.
type jsonlRecord struct {
	ID       string       `json:"id"`
	Source   string       `json:"source"`
	Line     int          `json:"line"`
	Text     string       `json:"text"`
	Entities []ner.Entity `json:"entities"`
}

// Label Studio's task layout (predictions for a <Labels name="label"
// toName="text"> config).
type lsTask struct {
	Data        lsData         `json:"data"`
	Predictions []lsPrediction `json:"predictions"`
}

type lsData struct {
	Text   string `json:"text"`
	Source string `json:"source"`
	Line   int    `json:"line"`
}

type lsPrediction struct {
	ModelVersion string     `json:"model_version"`
	Score        float64    `json:"score"`
	Result       []lsResult `json:"result"`
}

type lsResult struct {
	ID       string  `json:"id"`
	FromName string  `json:"from_name"`
	ToName   string  `json:"to_name"`
	Type     string  `json:"type"`
	Value    lsValue `json:"value"`
	Score    float64 `json:"score"`
}

type lsValue struct {
	Start  int      `json:"start"`
	End    int      `json:"end"`
	Text   string   `json:"text"`
	Labels []string `json:"labels"`
}

// formatPrediction writes one input's documents in format; st is the
// state of the stream they go to.
func formatPrediction(w *bufio.Writer, in *predictInput, docs []predictDoc, format, modelName string, st *predictStream) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	nonNil := func(es []ner.Entity) []ner.Entity {
		if es == nil {
			return []ner.Entity{}
		}
		return es
	}
	switch format {
	case "json":
		for _, d := range docs {
			if err := enc.Encode(nonNil(d.ents)); err != nil {
				return err
			}
		}
	case "jsonl":
		for _, d := range docs {
			rec := jsonlRecord{ID: fmt.Sprintf("%s:%d", in.name, d.line), Source: in.name, Line: d.line, Text: d.text, Entities: nonNil(d.ents)}
			if err := enc.Encode(rec); err != nil {
				return err
			}
		}
	case "conll":
		for _, d := range docs {
			fmt.Fprintf(w, "-DOCSTART-\t%s:%d\n\n", in.name, d.line)
			for i, words := range d.words {
				for j, wd := range words {
					fmt.Fprintf(w, "%s\t%s\n", wd, d.tags[i][j])
				}
				fmt.Fprintln(w)
			}
		}
	case "brat":
		n := 0
		for _, d := range docs {
			for _, en := range d.ents {
				n++
				fmt.Fprintf(w, "T%d\t%s %d %d\t%s\n", n, bratType(en.Type), d.runeOff+en.Start, d.runeOff+en.End, en.Text)
			}
		}
	case "labelstudio":
		if in.out != "" {
			w.WriteString("[")
		}
		for _, d := range docs {
			task := lsTask{Data: lsData{Text: d.text, Source: in.name, Line: d.line}}
			p := lsPrediction{ModelVersion: modelName, Result: []lsResult{}}
			for k, en := range d.ents {
				p.Result = append(p.Result, lsResult{
					ID: fmt.Sprintf("l%d-e%d", d.line, k+1), FromName: "label", ToName: "text", Type: "labels",
					Value: lsValue{Start: en.Start, End: en.End, Text: en.Text, Labels: []string{en.Type}}, Score: en.Score,
				})
				p.Score += en.Score / float64(len(d.ents))
			}
			task.Predictions = []lsPrediction{p}
			b, err := json.Marshal(task)
			if err != nil {
				return err
			}
			if st.tasks > 0 {
				w.WriteString(",")
			}
			w.WriteString("\n")
			w.Write(b)
			st.tasks++
		}
		if in.out != "" {
			w.WriteString("\n]\n")
		}
	}
	return nil
}

// bratType writes an entity type as a brat type: white space becomes "_".
func bratType(t string) string {
	return strings.Join(strings.Fields(t), "_")
}

// writeSideFiles writes what annotation tools need beside the outputs:
// brat's annotation.conf, Label Studio's labeling config.
func writeSideFiles(dir, format string, types []string) error {
	var name string
	var b strings.Builder
	switch format {
	case "brat":
		name = "annotation.conf"
		b.WriteString("[entities]\n")
		for _, t := range types {
			b.WriteString(bratType(t) + "\n")
		}
		b.WriteString("\n[relations]\n\n[events]\n\n[attributes]\n")
	case "labelstudio":
		name = "label_config.xml"
		b.WriteString("<View>\n  <Labels name=\"label\" toName=\"text\">\n")
		for _, t := range types {
			fmt.Fprintf(&b, "    <Label value=%q/>\n", t)
		}
		b.WriteString("  </Labels>\n  <Text name=\"text\" value=\"$text\"/>\n</View>\n")
	default:
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, name), []byte(b.String())); err != nil {
		return fmt.Errorf("predict: %w", err)
	}
	return nil
}
