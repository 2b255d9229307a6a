package ner_test

import (
	"fmt"

	"github.com/biobertpt-go/biobertpt/ner"
)

// The paper's fine-tuning recipe; only the output directory is required.
func ExampleDefaultTrainOptions() {
	o := ner.DefaultTrainOptions()
	fmt.Println(o.MaxLen, o.BatchSize, o.LR, o.Epochs, o.WeightDecay, o.WarmupRatio, o.Scheme, o.MaxGradNorm, o.Seed)
	fmt.Println(o.Validate())
	o.OutDir = "runs/clinpt"
	fmt.Println(o.Validate())
	// Output:
	// 256 4 3e-05 10 0.01 0.1 IOB2 1 42
	// ner: train options: OutDir "": want an output directory (required)
	// <nil>
}

func ExampleEntity_String() {
	e := ner.Entity{Type: "C", Text: "dor torácica", Start: 13, End: 25, Score: 0.97}
	fmt.Println(e)
	// Output: C[13:25]"dor torácica"
}
