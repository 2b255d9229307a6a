// Command ddpprep writes the inputs of examples/internal/bench/ddp_bench.sh into a
// directory: the tiny and small BERT configs (bert.TinyConfig with the demo
// vocabulary, bench.SmallConfig with mBERT's vocabulary size), their
// vocabularies (the small one is the demo vocabulary padded with [unusedN]
// tokens to 119,547) and the demo clinical text as a corpus.
//
//	go run ./examples/internal/bench/ddpprep DIR
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/bench"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ddpprep DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "ddpprep:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	vocab := string(demodata.Vocab())
	n := strings.Count(vocab, "\n")
	tiny := bert.TinyConfig()
	tiny.VocabSize = n
	if err := tiny.Save(filepath.Join(dir, "tiny.json")); err != nil {
		return err
	}
	small := bench.SmallConfig()
	var b strings.Builder
	b.WriteString(vocab)
	for i := n; i < small.VocabSize; i++ {
		fmt.Fprintf(&b, "[unused%d]\n", i)
	}
	files := map[string][]byte{"vocab.txt": demodata.Vocab(), "vocab-small.txt": []byte(b.String()), "notes.txt": []byte(demodata.ClinicalText())}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return small.Save(filepath.Join(dir, "small.json"))
}
