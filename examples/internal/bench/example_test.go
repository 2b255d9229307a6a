package bench_test

import (
	"fmt"

	"github.com/biobertpt-go/biobertpt/examples/internal/bench"
)

// MakeBatch builds hf_bench.py's random batch on the host.
func ExampleMakeBatch() {
	b, err := bench.MakeBatch(bench.TaskMLM, 4, 512, 119547, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(b.InputIDs), b.InputIDs[0] == bench.CLS || b.InputIDs[0] == bench.MASK)
	// Output: 2048 true
}

// Options are validated before anything touches libtorch.
func ExampleOptions_Validate() {
	o := bench.DefaultOptions()
	o.DType = "fp8"
	fmt.Println(o.Validate())
	// Output: bench: invalid option: DType "fp8": want fp32, tf32, bf16 or fp16
}
