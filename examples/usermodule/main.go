// Command usermodule is the README's "Use it from Go" program: it loads a
// fine-tuned NER model and tags one text. The end-to-end test builds it in
// a module of its own, the way a user's module imports this one.
//
//	go run ./examples/usermodule -model out/clinpt/best "Paciente com dor torácica há 2 dias."
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/ner"
)

func main() {
	model := flag.String("model", "", "directory of a token-classification model (config.json, weights, vocab.txt)")
	flag.Parse()
	logger := log.New(os.Stderr, "usermodule: ", 0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *model, strings.Join(flag.Args(), " "), logger); err != nil {
		logger.Print(err)
		if errors.Is(err, bert.ErrModelNotFound) {
			logger.Print("train one with ner.Train (see examples/ner-clinpt) or pass a Hugging Face directory")
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, model, text string, logger *log.Logger) error {
	cfg, err := bert.LoadConfig(filepath.Join(model, bert.ConfigFile))
	if err != nil {
		return err // errors.Is(err, bert.ErrModelNotFound) when the directory is missing
	}
	o := ner.DefaultTaggerOptions()
	// Windows must fit the model: the default 256 sub-tokens is more than a
	// small model's max_position_embeddings (128 for the quickstart's).
	o.MaxLen = min(o.MaxLen, cfg.MaxPositionEmbeddings)
	tagger, err := ner.Load(model, o)
	if err != nil {
		return err
	}
	defer tagger.Close()
	logger.Printf("loaded %s (%d labels, windows of %d sub-tokens)", model, len(cfg.ID2Label), o.MaxLen)
	ents, err := tagger.PredictTexts(ctx, []string{text})
	if err != nil {
		return err
	}
	for _, e := range ents[0] {
		fmt.Printf("%s\t%q\t%d\t%d\t%.2f\n", e.Type, e.Text, e.Start, e.End, e.Score) // character offsets
	}
	return nil
}
