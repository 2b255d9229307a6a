package bert_test

import (
	"fmt"
	"runtime"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/sugarme/gotch"
)

// ExampleForMaskedLM_LossAt computes the MLM loss in bf16 at two masked
// positions known on the host (flat indices into the 2 × 4 batch); the
// parameters stay float32 and the loss is float32.
func ExampleForMaskedLM_LossAt() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m, err := bert.NewForMaskedLM(bert.TinyConfig(), gotch.CPU)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.VarStore().Destroy()
	if err := m.SetPrecision(bert.PrecisionBF16); err != nil {
		fmt.Println(err)
		return
	}
	ids, _ := tensors.FromInt64s([]int64{1, 3, 20, 2, 1, 31, 3, 2}, []int64{2, 4}, gotch.CPU)
	pos, _ := tensors.FromInt64s([]int64{1, 6}, []int64{2}, gotch.CPU) // the [MASK]s (id 3)
	labels, _ := tensors.FromInt64s([]int64{17, 42}, []int64{2}, gotch.CPU)
	defer ids.MustDrop()
	defer pos.MustDrop()
	defer labels.MustDrop()
	loss, err := m.LossAt(bert.Inputs{InputIDs: ids}, pos, labels, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer loss.MustDrop()
	fmt.Println(m.Precision(), m.Parameters()[0].Tensor.DType(), loss.DType()) // gotch prints float32 as Float
	// Output: bf16 Float Float
}
