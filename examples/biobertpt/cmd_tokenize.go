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
	register(command{name: "tokenize", summary: "WordPiece-tokenize stdin lines to JSON (HF BertTokenizerFast ids and offsets)", run: runTokenize})
}

// tokenizeLine is one output line of biobertpt tokenize.
type tokenizeLine struct {
	IDs     []int    `json:"ids"`
	Tokens  []string `json:"tokens"`
	Offsets [][2]int `json:"offsets"`
	WordIDs []int    `json:"word_ids,omitempty"`
}

func runTokenize(e *env, args []string) error {
	fs := newFlags(e, "tokenize", "-vocab vocab.txt [-lower] [-words] < texts")
	vocab := fs.String("vocab", "", "vocab.txt (or a directory with vocab.txt/tokenizer.json)")
	lower := fs.Bool("lower", false, "lowercase and strip accents (uncased vocabularies)")
	words := fs.Bool("words", false, "each line is one sentence of tab-separated words; adds word_ids (offsets are within each word)")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if *vocab == "" || fs.NArg() > 0 {
		return usagef("tokenize -vocab vocab.txt [-lower] [-words] < texts")
	}
	var tk *tokenize.Tokenizer
	var err error
	if strings.HasSuffix(*vocab, ".txt") {
		o := tokenize.DefaultOptions()
		o.Lowercase = *lower
		tk, err = tokenize.LoadVocabFile(*vocab, o)
	} else {
		tk, err = tokenize.Load(*vocab)
		if err == nil && *lower != tk.Options().Lowercase {
			err = fmt.Errorf("-lower=%v contradicts %s (do_lower_case=%v)", *lower, *vocab, tk.Options().Lowercase)
		}
	}
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(e.stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<28)
	w := bufio.NewWriter(e.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		var en *tokenize.Encoding
		if *words {
			en, err = tk.EncodeWords(strings.Split(line, "\t"))
		} else {
			en, err = tk.Encode(line)
		}
		if err != nil {
			return fmt.Errorf("stdin:%d: %w", n, err)
		}
		out := tokenizeLine{IDs: en.IDs, Tokens: en.Tokens, Offsets: en.Offsets}
		if *words {
			out.WordIDs = en.WordIDs
		}
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return w.Flush()
}
