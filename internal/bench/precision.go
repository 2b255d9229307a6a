package bench

import (
	"errors"
	"fmt"
)

// ErrNoTF32 is returned for dtype tf32 by builds without the CUDA shim.
var ErrNoTF32 = errors.New("tf32 needs the CUDA shim (not available in this build)")

// ErrNoBF16 is returned for dtype bf16: autocast is not wrapped by gotch and
// this library has no bf16 model copy with fp32 master weights yet.
var ErrNoBF16 = errors.New("bf16 is not implemented: gotch wraps no autocast, and bert has no bf16 compute copy with fp32 master weights yet")

// setPrecision applies o.DType's matmul precision and returns its
// hf_bench.py name and a function that restores the previous setting.
func setPrecision(o Options) (prec string, restore func(), err error) {
	switch o.DType {
	case DTypeBF16:
		return "", nil, fmt.Errorf("bench: -dtype bf16: %w", ErrNoBF16)
	case DTypeTF32:
		if !shimAvailable {
			return "", nil, fmt.Errorf("bench: -dtype tf32: %w; build with -tags biobertpt_cudashim on a CUDA machine (see BENCHMARKS.md)", ErrNoTF32)
		}
		if !o.Device.IsCuda() {
			return "", nil, fmt.Errorf("bench: -dtype tf32: TF32 applies to CUDA matmuls only (device %s)", deviceString(o.Device))
		}
	}
	tf32 := o.DType == DTypeTF32
	if !shimAvailable { // fp32 without the shim: libtorch's default, TF32 off
		return "highest", func() {}, nil
	}
	prev, err := setAllowTF32(tf32)
	if err != nil {
		return "", nil, fmt.Errorf("bench: -dtype %s: %w", o.DType, err)
	}
	prec = "highest"
	if tf32 {
		prec = "high"
	}
	return prec, func() { _, _ = setAllowTF32(prev) }, nil
}
