package pretrain_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/pretrain"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// ExampleTrain trains a tiny BERT from scratch for a few steps on the demo
// clinical notes, then measures its perplexity. Real runs start from
// mBERT: o.Model = "bert-base-multilingual-cased" with the paper's
// DefaultOptions.
func ExampleTrain() {
	dir, _ := os.MkdirTemp("", "pretrain-example")
	defer os.RemoveAll(dir)
	cfg := bert.TinyConfig()
	cfg.VocabSize = strings.Count(string(demodata.Vocab()), "\n")
	cfg.Save(filepath.Join(dir, "config.json"))
	os.WriteFile(filepath.Join(dir, "vocab.txt"), demodata.Vocab(), 0o644)
	lines := strings.SplitAfter(demodata.ClinicalText(), "\n")
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte(strings.Join(lines[:300], "")), 0o644)

	o := pretrain.DefaultTrainOptions()
	o.Config, o.Vocab = filepath.Join(dir, "config.json"), filepath.Join(dir, "vocab.txt")
	o.Corpora = map[string][]string{"": {filepath.Join(dir, "notes.txt")}}
	o.OutDir = filepath.Join(dir, "out")
	o.MaxSteps, o.BlockSize, o.LR = 20, 32, 2e-3
	res, err := pretrain.Train(context.Background(), o)
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Stages[0]
	fmt.Println("steps:", s.Steps, "evaluations:", len(s.Evals))
	fmt.Println("model:", filepath.Base(res.FinalDir))

	m, _, err := bert.LoadForMaskedLM(res.FinalDir, bert.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, _ := tokenize.Load(res.FinalDir)
	po := pretrain.DefaultPerplexityOptions()
	po.BlockSize = 32
	r, err := pretrain.Perplexity(context.Background(), m, tok, []string{filepath.Join(dir, "notes.txt")}, po)
	if err != nil {
		fmt.Println(err)
		return
	}
	// A fresh model's perplexity is about the vocabulary size (3,000).
	fmt.Println("perplexity under 2500:", r.Perplexity < 2500)
	// Output:
	// steps: 20 evaluations: 1
	// model: final
	// perplexity under 2500: true
}
