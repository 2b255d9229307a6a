package bert

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// Precision is the compute precision of a model's forward pass. Parameters
// (and so gradients, optimizer state and checkpoints) are float32 whatever
// the precision: it only selects the dtype the linear layers and attention
// matmuls compute in (see docs/BERT.md, "Mixed precision").
type Precision string

const (
	// PrecisionFP32 computes everything in float32 (the default: the only
	// precision measured on this project's CPU machines).
	PrecisionFP32 Precision = "fp32"
	// PrecisionBF16 is bfloat16 mixed precision with float32 master
	// weights, torch.autocast(dtype=torch.bfloat16)'s casting rules. It
	// needs no loss scaling. On CUDA it is the recommended precision for
	// training on GPUs with native bf16 (compute capability ≥ 8.0: A100,
	// H100, RTX 30xx/40xx); on the CPU it works but is slow.
	PrecisionBF16 Precision = "bf16"
	// PrecisionFP16 is float16 mixed precision with float32 master
	// weights, torch.autocast(dtype=torch.float16)'s casting rules (the
	// same casts as bf16, to float16). float16's range ends at 65504 and
	// its gradients underflow below 2⁻²⁴, so training needs dynamic loss
	// scaling (internal/optim.GradScaler). It is for CUDA GPUs with fp16
	// tensor cores but no bf16 (compute capability 7.x: V100, Turing RTX
	// 20xx); it needs a CUDA device, as Debian's CPU libtorch has no
	// float16 kernels for addmm, layer_norm or softmax.
	PrecisionFP16 Precision = "fp16"
)

// ErrFP16NeedsCUDA is returned by SetPrecision(PrecisionFP16) for a model
// that is not on a CUDA device.
var ErrFP16NeedsCUDA = errors.New("fp16 needs a CUDA device; use bf16 or fp32 on the CPU")

// DefaultPrecision is the precision a new or loaded model starts with.
const DefaultPrecision = PrecisionFP32

// ParsePrecision maps "fp32", "bf16" or "fp16" (any case; "" is fp32) to
// a Precision.
func ParsePrecision(s string) (Precision, error) {
	switch p := Precision(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return PrecisionFP32, nil
	case PrecisionFP32, PrecisionBF16, PrecisionFP16:
		return p, nil
	}
	return "", fmt.Errorf("bert: precision %q: %s", s, wantPrecision)
}

// wantPrecision lists the valid precisions in error messages.
const wantPrecision = "want fp32, bf16 or fp16"

// dtype is the compute dtype of p.
func (p Precision) dtype() gotch.DType {
	switch p {
	case PrecisionBF16:
		return gotch.BFloat16
	case PrecisionFP16:
		return gotch.Half
	}
	return modelDType
}

// autocast is one forward pass's casting state: the compute dtype of linear
// layers and matmuls and the casts of the parameters it made, each made once
// per forward pass (torch.autocast's weight-cast cache). A nil *autocast, or
// one whose dtype is modelDType, computes in float32 and casts nothing. The
// casts are owned by s, which the exported method that created the
// autocast drops before it returns: autograd keeps what backward needs.
type autocast struct {
	dt    gotch.DType
	s     *tensors.Scope
	cache map[*ts.Tensor]*ts.Tensor
}

// newAutocast returns the casting state of one forward pass at precision p;
// its casts are added to s.
func newAutocast(p Precision, s *tensors.Scope) *autocast {
	dt := p.dtype()
	if dt == modelDType {
		return nil
	}
	return &autocast{dt: dt, s: s, cache: map[*ts.Tensor]*ts.Tensor{}}
}

// on reports whether a casts to a lower precision.
func (a *autocast) on() bool { return a != nil && a.dt != modelDType }

// param returns parameter w in the compute dtype, cast once per forward
// pass. The cast is differentiable: gradients reach the float32 w.
func (a *autocast) param(w *ts.Tensor) *ts.Tensor {
	if !a.on() || w.DType() == a.dt {
		return w
	}
	if c, ok := a.cache[w]; ok {
		return c
	}
	c := a.s.Add(w.MustTotype(a.dt, false))
	a.cache[w] = c
	return c
}

// low returns activation x in the compute dtype (owned by s when cast).
func (a *autocast) low(s *tensors.Scope, x *ts.Tensor) *ts.Tensor {
	if !a.on() || x.DType() == a.dt {
		return x
	}
	return s.Add(x.MustTotype(a.dt, false))
}

// fp32 returns x in float32 (owned by s when cast): the inputs of
// LayerNorm, softmax and the losses, which autocast runs in float32.
func fp32(s *tensors.Scope, x *ts.Tensor) *ts.Tensor {
	if x.DType() == modelDType {
		return x
	}
	return s.Add(x.MustTotype(modelDType, false))
}

// maskMin is the additive mask value of masked keys for scores of dtype dt:
// the most negative finite value (HF's finfo(dtype).min).
func maskMin(dt gotch.DType) float64 {
	switch dt {
	case gotch.BFloat16:
		return -0x1.fep127 // 3.3895313892515355e38, bf16's largest finite
	case gotch.Half:
		return -65504 // 0x1.ffcp15, float16's largest finite
	}
	return -math.MaxFloat32
}

// SetPrecision selects the compute precision of later forward passes. It
// does not change the parameters, which stay float32. PrecisionFP16 needs
// a model on a CUDA device (ErrFP16NeedsCUDA otherwise).
func (m *Model) SetPrecision(p Precision) error {
	if _, err := ParsePrecision(string(p)); err != nil || p == "" {
		return fmt.Errorf("bert: precision %q: %s", p, wantPrecision)
	}
	if p == PrecisionFP16 && m.dev.Name != "CUDA" { // not IsCuda: that is true for a zero Device
		return fmt.Errorf("bert: precision fp16 on device %s: %w", torchutil.DeviceString(m.dev), ErrFP16NeedsCUDA)
	}
	m.prec = p
	return nil
}

// Precision returns the compute precision of forward passes (fp32 unless
// SetPrecision chose another).
func (m *Model) Precision() Precision {
	if m.prec == "" {
		return DefaultPrecision
	}
	return m.prec
}

// SetPrecision selects the compute precision of the encoder and head (see
// Model.SetPrecision).
func (m *ForMaskedLM) SetPrecision(p Precision) error { return m.Bert.SetPrecision(p) }

// Precision returns the compute precision of forward passes.
func (m *ForMaskedLM) Precision() Precision { return m.Bert.Precision() }

// SetPrecision selects the compute precision of the encoder and head (see
// Model.SetPrecision).
func (m *ForTokenClassification) SetPrecision(p Precision) error { return m.Bert.SetPrecision(p) }

// Precision returns the compute precision of forward passes.
func (m *ForTokenClassification) Precision() Precision { return m.Bert.Precision() }
