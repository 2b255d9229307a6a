package optim

// #cgo LDFLAGS: -lm
// #include <math.h>
import "C"

import (
	lib "github.com/sugarme/gotch/libtch"
	"github.com/sugarme/gotch/ts"
)

// cpow is C's pow, the function CPython's float ** float calls. torch's
// AdamW computes its bias corrections as Python floats (1 - beta1 ** step);
// Go's math.Pow is not always correctly rounded, C's (glibc) is, so this
// keeps the step sizes bit-identical to PyTorch's.
func cpow(x, y float64) float64 { return float64(C.pow(C.double(x), C.double(y))) }

// setGradEnabled sets libtorch's (thread-local) grad mode and returns the
// previous one. ts.GradSetEnabled cannot be used for save/restore: gotch's
// lib.AtGradSetEnabled reads the C int result as an 8-byte Go int, so the
// upper half is stack garbage and the "previous state" it reports is
// usually false; restoring it then leaves grad mode off on the thread.
func setGradEnabled(b bool) (prev bool, err error) {
	v := 0
	if b {
		v = 1
	}
	r := int32(lib.AtGradSetEnabled(v)) // the low 4 bytes are the C int
	if err := ts.TorchErr(); err != nil {
		return false, err
	}
	return r == 1, nil
}
