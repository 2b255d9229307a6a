package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

func init() {
	register(command{name: "split-words", summary: "split text lines into words as a tagger does (JSON offsets)", run: runSplitWords})
}

const splitWordsUsage = `[-splitter clinical|bert|whitespace] < text

Each stdin line is one text; each output line is one JSON array of its
words {"text","start","end"}, offsets in Unicode code points of the line,
end exclusive. clinical (default) keeps decimal numbers, ratios, dates,
units and hyphenated or slash compounds whole ("10,2", "150/90", "g/dL",
"angio-TC") and splits sentence punctuation, brackets and quotes off; bert
is BERT's basic pre-tokenization (every punctuation mark a word);
whitespace splits at spaces only.`

// splitWord is one word of split-words' output.
type splitWord struct {
	Text  string `json:"text"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

func runSplitWords(e *env, args []string) error {
	fs := newFlags(e, "split-words", splitWordsUsage)
	name := fs.String("splitter", "clinical", "clinical, bert or whitespace")
	if err := cli.ParseFlags(fs, args, cli.OneOf("splitter", "clinical", "bert", "whitespace")); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("split-words %s", splitWordsUsage)
	}
	s := tokenize.WordSplitter(*name)
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	w := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for sc.Scan() {
		words := s.Split(strings.TrimSuffix(sc.Text(), "\r"))
		out := make([]splitWord, len(words))
		for i, wd := range words {
			out[i] = splitWord{Text: wd.Text, Start: wd.Start, End: wd.End}
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("split-words: read stdin: %w", err)
	}
	return w.Flush()
}
