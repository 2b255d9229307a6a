package bert_test

import (
	"fmt"
	"runtime"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/sugarme/gotch"
)

// ExampleLoadForTokenClassification loads the tiny committed checkpoint and
// tags a padded batch of two sequences.
func ExampleLoadForTokenClassification() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m, rep, err := bert.LoadForTokenClassification("testdata/tiny/token-classification", bert.LoadOptions{Device: gotch.CPU})
	if err != nil {
		fmt.Println(err)
		return
	}
	ids, _ := tensors.FromInt64s([]int64{5, 17, 33, 2, 9, 12, 0, 0}, []int64{2, 4}, gotch.CPU)
	mask, _ := tensors.FromInt64s([]int64{1, 1, 1, 1, 1, 1, 0, 0}, []int64{2, 4}, gotch.CPU)
	defer ids.MustDrop()
	defer mask.MustDrop()
	logits, err := m.Forward(bert.Inputs{InputIDs: ids, AttentionMask: mask}, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer logits.MustDrop()
	fmt.Println(logits.MustSize(), m.Labels(), len(rep.Initialized))
	// Output: [2 4 5] [O B-Disorder I-Disorder B-Procedure I-Procedure] 0
}

// ExampleNewForMaskedLM builds a fresh tiny model and computes an MLM loss
// over the one labelled position.
func ExampleNewForMaskedLM() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m, err := bert.NewForMaskedLM(bert.TinyConfig(), gotch.CPU)
	if err != nil {
		fmt.Println(err)
		return
	}
	ids, _ := tensors.FromInt64s([]int64{2, 7, 3}, []int64{1, 3}, gotch.CPU)
	labels, _ := tensors.FromInt64s([]int64{-100, 42, -100}, []int64{1, 3}, gotch.CPU)
	defer ids.MustDrop()
	defer labels.MustDrop()
	loss, err := m.Loss(bert.Inputs{InputIDs: ids}, labels, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer loss.MustDrop()
	// a fresh model is close to uniform over the 100-token vocabulary: ln 100 ≈ 4.6
	fmt.Printf("%.0f\n", loss.MustFloat64Value([]int64{}))
	// Output: 5
}
