package torchutil_test

import (
	"errors"
	"fmt"

	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// A training loop sets the cap once, checks it after every step and wraps
// a step's allocation failure with what ran.
func ExampleLimitMemory() {
	lim, err := torchutil.LimitMemory(gotch.CPU, 0) // -max-memory 0: no cap
	if err != nil {
		fmt.Println(err)
		return
	}
	defer lim.Close()
	for step := 1; step <= 2; step++ {
		var stepErr error // the step's error, e.g. from a Must* call caught by Recover
		if step == 2 {
			stepErr = errors.New("torch: CUDA out of memory. Tried to allocate 20.00 MiB")
		}
		if err := torchutil.WrapOOM(stepErr, fmt.Sprintf("ner: train step %d, batch 4 × 256 on cuda:0", step)); err != nil {
			fmt.Println(err)
			fmt.Println(errors.Is(err, torchutil.ErrOutOfMemory))
			return
		}
		if err := lim.Check(); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Output:
	// ner: train step 2, batch 4 × 256 on cuda:0: out of memory: reduce the batch size and use gradient accumulation; libtorch: torch: CUDA out of memory. Tried to allocate 20.00 MiB
	// true
}
