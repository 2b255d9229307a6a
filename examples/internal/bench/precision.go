package bench

import (
	"errors"
	"fmt"

	"github.com/sugarme/gotch/bbshim"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// ErrNoTF32 is returned for dtype tf32 when the linked libtorch is a
// CPU-only build (the setup-installed shim has no CUDA context switch).
var ErrNoTF32 = errors.New("tf32 needs a CUDA libtorch")

// setPrecision applies o.DType's matmul precision and returns its
// hf_bench.py name and a function that restores the previous setting. TF32
// goes through the bbshim package that examples/setup installs into the
// patched gotch (at::globalContext().setAllowTF32CuBLAS/CuDNN). bf16 keeps
// fp32 matmuls at "highest" for what stays in float32; its bf16 compute is
// the model's precision (modelPrecision).
func setPrecision(o Options) (prec string, restore func(), err error) {
	switch o.DType {
	case DTypeTF32:
		if !bbshim.CUDABuild() {
			return "", nil, fmt.Errorf("bench: -dtype tf32: %w (the linked libtorch is CPU-only)", ErrNoTF32)
		}
		if !o.Device.IsCuda() {
			return "", nil, fmt.Errorf("bench: -dtype tf32: TF32 applies to CUDA matmuls only (device %s)", torchutil.DeviceString(o.Device))
		}
	case DTypeFP16: // refused before the model is built (bert checks it again)
		if !o.Device.IsCuda() {
			return "", nil, fmt.Errorf("bench: -dtype fp16: %w (device %s)", bert.ErrFP16NeedsCUDA, torchutil.DeviceString(o.Device))
		}
	}
	if !bbshim.CUDABuild() { // fp32 on a CPU build: libtorch's default, TF32 off
		return "highest", func() {}, nil
	}
	tf32 := o.DType == DTypeTF32
	prev, err := bbshim.SetAllowTF32(tf32)
	if err != nil {
		return "", nil, fmt.Errorf("bench: -dtype %s: %w", o.DType, err)
	}
	prec = "highest"
	if tf32 {
		prec = "high"
	}
	return prec, func() { _, _ = bbshim.SetAllowTF32(prev) }, nil
}

// modelPrecision is the bert compute precision of dtype d: bf16 for bf16
// and fp16 for fp16 (low-precision linear layers and matmuls with fp32
// master weights, LayerNorm, softmax and the loss in fp32), fp32 otherwise.
func modelPrecision(d string) bert.Precision {
	switch d {
	case DTypeBF16:
		return bert.PrecisionBF16
	case DTypeFP16:
		return bert.PrecisionFP16
	}
	return bert.PrecisionFP32
}

// newScaler returns the step's loss scaler for dtype d: torch's default
// GradScaler for fp16 (hf_bench.py --dtype fp16 would use
// torch.cuda.amp.GradScaler()), a disabled one (scale 1, nothing read
// back) otherwise.
func newScaler(d string) (*optim.GradScaler, error) {
	o := optim.DefaultScalerOptions()
	o.Enabled = d == DTypeFP16
	s, err := optim.NewGradScaler(o)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return s, nil
}
