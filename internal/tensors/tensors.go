package tensors

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"
)

// Scope owns tensors until Drop. The zero value is not usable; call NewScope.
type Scope struct {
	ts []*ts.Tensor
}

// NewScope returns an empty scope.
func NewScope() *Scope { return &Scope{} }

// Add records t for dropping and returns it; a nil t is ignored.
func (s *Scope) Add(t *ts.Tensor) *ts.Tensor {
	if t != nil {
		s.ts = append(s.ts, t)
	}
	return t
}

// Len returns the number of tensors the scope holds.
func (s *Scope) Len() int { return len(s.ts) }

// Drop frees every tensor added, in reverse order, once each, and empties the
// scope. Dropping an empty scope does nothing.
func (s *Scope) Drop() {
	seen := make(map[*ts.Tensor]bool, len(s.ts))
	for i := len(s.ts) - 1; i >= 0; i-- {
		t := s.ts[i]
		if seen[t] {
			continue
		}
		seen[t] = true
		_ = t.Drop()
	}
	s.ts = s.ts[:0]
}

var toSafe = map[gotch.DType]safetensors.DType{
	gotch.Float:    safetensors.F32,
	gotch.Double:   safetensors.F64,
	gotch.Half:     safetensors.F16,
	gotch.BFloat16: safetensors.BF16,
	gotch.Int64:    safetensors.I64,
	gotch.Int:      safetensors.I32,
	gotch.Int16:    safetensors.I16,
	gotch.Int8:     safetensors.I8,
	gotch.Uint8:    safetensors.U8,
	gotch.Bool:     safetensors.Bool,
}

// GotchDType returns the gotch dtype of a safetensors dtype.
func GotchDType(d safetensors.DType) (gotch.DType, error) {
	for g, s := range toSafe {
		if s == d {
			return g, nil
		}
	}
	return gotch.Invalid, fmt.Errorf("tensors: unsupported dtype %q", d)
}

// SafeDType returns the safetensors dtype of a gotch dtype.
func SafeDType(d gotch.DType) (safetensors.DType, error) {
	s, ok := toSafe[d]
	if !ok {
		return "", fmt.Errorf("tensors: unsupported dtype %v", d)
	}
	return s, nil
}

// ToSafetensors copies t (any device, any layout) into a safetensors.Tensor
// of the same dtype and shape. t is not modified or dropped.
func ToSafetensors(t *ts.Tensor) (out safetensors.Tensor, err error) {
	defer torchutil.Recover(&err)
	sd, err := SafeDType(t.DType())
	if err != nil {
		return out, err
	}
	shape, err := t.Size()
	if err != nil {
		return out, fmt.Errorf("tensors: %w", err)
	}
	s := NewScope()
	defer s.Drop()
	x, err := t.Detach(false)
	if err != nil {
		return out, fmt.Errorf("tensors: %w", err)
	}
	s.Add(x)
	if x, err = x.To(gotch.CPU, false); err != nil {
		return out, fmt.Errorf("tensors: %w", err)
	}
	s.Add(x)
	if sd == safetensors.F16 || sd == safetensors.BF16 {
		// f16/bf16 → f32 is exact, and FromFloat32s rounds back exactly.
		if x, err = x.Totype(gotch.Float, false); err != nil {
			return out, fmt.Errorf("tensors: %w", err)
		}
		s.Add(x)
	}
	if x, err = x.Contiguous(false); err != nil {
		return out, fmt.Errorf("tensors: %w", err)
	}
	s.Add(x)
	n := int(ts.ElementCount(shape))
	shape = append([]int64{}, shape...)
	switch sd {
	case safetensors.F32, safetensors.F16, safetensors.BF16:
		v := make([]float32, n)
		if n > 0 {
			if err := x.CopyData(v, uint(n)); err != nil {
				return out, fmt.Errorf("tensors: %w", err)
			}
		}
		return safetensors.FromFloat32s(sd, shape, v)
	case safetensors.F64:
		v := make([]float64, n)
		if n > 0 {
			if err := x.CopyData(v, uint(n)); err != nil {
				return out, fmt.Errorf("tensors: %w", err)
			}
		}
		b := make([]byte, 8*n)
		for i, f := range v {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
		}
		return safetensors.Tensor{DType: sd, Shape: shape, Data: b}, nil
	case safetensors.I64:
		v := make([]int64, n)
		if n > 0 {
			if err := x.CopyData(v, uint(n)); err != nil {
				return out, fmt.Errorf("tensors: %w", err)
			}
		}
		return safetensors.FromInt64s(shape, v)
	}
	// Narrow integer and bool types: copy raw bytes.
	b := make([]byte, n*sd.Size())
	if n > 0 {
		if err := x.CopyDataUint8(b, uint(len(b))); err != nil {
			return out, fmt.Errorf("tensors: %w", err)
		}
	}
	return safetensors.Tensor{DType: sd, Shape: shape, Data: b}, nil
}

// FromSafetensors creates a tensor of st's dtype and shape on dev. The
// caller owns it.
func FromSafetensors(st safetensors.Tensor, dev gotch.Device) (out *ts.Tensor, err error) {
	defer torchutil.Recover(&err)
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("tensors: %w", err)
	}
	gd, err := GotchDType(st.DType)
	if err != nil {
		return nil, err
	}
	if st.Numel() == 0 {
		return ts.Zeros(st.Shape, gd, dev)
	}
	if len(st.Shape) == 0 {
		// gotch's OfDataSize indexes shape[0]: build a 1-element tensor and
		// view it as a scalar.
		one, err := ts.OfDataSize(st.Data, []int64{1}, gd)
		if err != nil {
			return nil, fmt.Errorf("tensors: %w", err)
		}
		scalar, err := one.Squeeze(true) // View([]int64{}) indexes size[0] too
		if err != nil {
			return nil, fmt.Errorf("tensors: %w", err)
		}
		return toDevice(scalar, dev, len(st.Data))
	}
	x, err := ts.OfDataSize(st.Data, st.Shape, gd)
	if err != nil {
		return nil, fmt.Errorf("tensors: %w", err)
	}
	return toDevice(x, dev, len(st.Data))
}

// asyncCopyMax is the largest host tensor (bytes) toDevice uploads through
// pinned memory without waiting: a batch is 8 to 64 KiB (4 × 256 to
// 32 × 256 int64 ids). Weight matrices, loaded once, are not pinned: the
// pinned caching allocator keeps its blocks for the life of the process,
// and pinning costs more than it saves for a one-off copy.
const asyncCopyMax = 1 << 20

// toDevice moves x (of nbytes bytes) to dev (dropping x) unless it is
// already on the CPU and dev is the CPU. A small x goes to CUDA the way
// DataLoader(pin_memory=True) + .to(non_blocking=True) sends a batch:
// copied into pinned memory, then uploaded asynchronously, so the host does
// not wait for the GPU to finish its queued work (a plain pageable copy
// synchronises the stream). libtorch's pinned allocator keeps the pinned
// block until the copy is done, so dropping it at once is safe. Where
// pinning fails, the copy is synchronous.
func toDevice(x *ts.Tensor, dev gotch.Device, nbytes int) (*ts.Tensor, error) {
	if !dev.IsCuda() {
		return x, nil
	}
	if nbytes <= asyncCopyMax {
		if pinned, err := bbshim.PinMemory(x); err == nil {
			y, err := pinned.ToDevice(dev, x.DType(), true, false, true)
			if err == nil {
				x.MustDrop()
				return y, nil
			}
		}
	}
	y, err := x.To(dev, false)
	x.MustDrop()
	if err != nil {
		return nil, fmt.Errorf("tensors: %w", err)
	}
	return y, nil
}

// FromInt64s creates an int64 tensor of the given shape on dev from
// row-major data; len(data) must equal the product of shape.
func FromInt64s(data []int64, shape []int64, dev gotch.Device) (*ts.Tensor, error) {
	st, err := safetensors.FromInt64s(shape, data)
	if err != nil {
		return nil, fmt.Errorf("tensors: %w", err)
	}
	return FromSafetensors(st, dev)
}

// FromFloat32s creates a float32 tensor of the given shape on dev.
func FromFloat32s(data []float32, shape []int64, dev gotch.Device) (*ts.Tensor, error) {
	st, err := safetensors.FromFloat32s(safetensors.F32, shape, data)
	if err != nil {
		return nil, fmt.Errorf("tensors: %w", err)
	}
	return FromSafetensors(st, dev)
}

// Float32s copies the elements of a floating-point tensor (any device) into
// a Go slice, row-major.
func Float32s(t *ts.Tensor) ([]float32, error) {
	st, err := ToSafetensors(t)
	if err != nil {
		return nil, err
	}
	return st.Float32s()
}

// Int64s copies the elements of an integer tensor into a Go slice.
func Int64s(t *ts.Tensor) ([]int64, error) {
	st, err := ToSafetensors(t)
	if err != nil {
		return nil, err
	}
	return st.Int64s()
}

// Accumulate returns sum + x as a new tensor and drops both; a nil sum
// returns x itself. It keeps a running sum of per-micro-batch losses on
// their device without reading anything back.
func Accumulate(sum, x *ts.Tensor) (out *ts.Tensor, err error) {
	if sum == nil {
		return x, nil
	}
	defer torchutil.Recover(&err)
	defer x.MustDrop()
	if out, err = sum.Add(x, true); err != nil { // drops sum
		return nil, fmt.Errorf("tensors: %w", err)
	}
	return out, nil
}

// ReadScalars copies the one-element tensors of list (all floating-point,
// on one device; nil entries allowed) to the host with a single
// device→host copy, as float64 (NaN for a nil entry). A trainer reads its
// queued step losses and gradient norms this way every N steps instead of
// waiting for the GPU at every step. list is not dropped.
func ReadScalars(list []*ts.Tensor) (vals []float64, err error) {
	defer torchutil.Recover(&err)
	vals = make([]float64, len(list))
	var present []*ts.Tensor
	for i, t := range list {
		vals[i] = math.NaN()
		if t != nil {
			present = append(present, t)
		}
	}
	if len(present) == 0 {
		return vals, nil
	}
	flat := make([]*ts.Tensor, len(present))
	for i, t := range present {
		if flat[i], err = t.Reshape([]int64{1}, false); err != nil {
			DropAll(flat...)
			return nil, fmt.Errorf("tensors: %w", err)
		}
	}
	cat, err := ts.Cat(flat, 0)
	DropAll(flat...)
	if err != nil {
		return nil, fmt.Errorf("tensors: %w", err)
	}
	got, err := Float32s(cat)
	cat.MustDrop()
	if err != nil {
		return nil, err
	}
	j := 0
	for i, t := range list {
		if t != nil {
			vals[i] = float64(got[j])
			j++
		}
	}
	return vals, nil
}

// DropAll drops the non-nil tensors of list.
func DropAll(list ...*ts.Tensor) {
	for _, t := range list {
		if t != nil {
			t.MustDrop()
		}
	}
}
