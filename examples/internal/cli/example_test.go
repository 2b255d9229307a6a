package cli_test

import (
	"fmt"
	"io"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/ner"
)

func ExampleBindNERTrain() {
	fs := cli.NewFlagSet("ner-demo", "usage: ner-demo -out DIR [flags]\n", io.Discard)
	train := cli.BindNERTrain(fs, ner.DefaultTrainOptions(), cli.NERHelp{Docs: "documents", Malformed: "rows"})
	if err := fs.Parse([]string{"-out", "runs/demo", "-model", "pucpr/biobertpt-clin", "-epochs", "3", "-max-len", "64"}); err != nil {
		fmt.Println(err)
		return
	}
	o, err := train.Options(nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(train.ModelName(), o.OutDir, o.Epochs, o.LR, o.MaxLen, o.Stride)
	// Output: biobertpt-clin runs/demo 3 3e-05 64 15
}
