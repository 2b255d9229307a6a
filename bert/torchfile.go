package bert

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/sugarme/gotch/half"
	"github.com/sugarme/gotch/pickle"
)

// readTorchFile reads a PyTorch state dict saved with torch.save, in the zip
// format (torch ≥ 1.6) or the legacy pickle format
// (_use_new_zipfile_serialization=False), using gotch's pickle package for
// the unpickling and gathering each tensor's strided view here in Go, so no
// libtorch call (and no log.Fatal) is involved. Limits inherited from gotch:
// no BFloat16 storages, no legacy tar archives, no legacy storage views.
func readTorchFile(path string) (out map[string]safetensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unpickle: %v", r)
		}
	}()
	obj, err := pickle.LoadWithUnpickler(path, func(r io.Reader) pickle.Unpickler { return pickle.NewUnpickler(r) })
	if err != nil {
		return nil, fmt.Errorf("unpickle: %w", err)
	}
	out = map[string]safetensors.Tensor{}
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("state dict key %v is not a string", k)
		}
		st, ok := v.(*pickle.StorageTensor)
		if !ok {
			return fmt.Errorf("%q: not a tensor (%T)", name, v)
		}
		t, err := gather(st)
		if err != nil {
			return fmt.Errorf("%q: %w", name, err)
		}
		out[name] = t
		return nil
	}
	switch d := obj.(type) {
	case *pickle.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			ent := e.Value.(*pickle.OrderedDictEntry)
			if err := add(ent.Key, ent.Value); err != nil {
				return nil, err
			}
		}
	case *pickle.Dict:
		for _, ent := range *d {
			if err := add(ent.Key, ent.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("not a state dict (%T)", obj)
	}
	return out, nil
}

// gather copies the strided view (offset, size, stride) of a storage into a
// row-major little-endian buffer.
func gather(st *pickle.StorageTensor) (safetensors.Tensor, error) {
	var (
		dt    safetensors.DType
		n     int
		write func(dst []byte, i int)
	)
	switch d := st.Source.GetData().(type) {
	case []float32:
		dt, n = safetensors.F32, len(d)
		write = func(b []byte, i int) { binary.LittleEndian.PutUint32(b, math.Float32bits(d[i])) }
	case []float64:
		dt, n = safetensors.F64, len(d)
		write = func(b []byte, i int) { binary.LittleEndian.PutUint64(b, math.Float64bits(d[i])) }
	case []half.Float16:
		dt, n = safetensors.F16, len(d)
		write = func(b []byte, i int) { binary.LittleEndian.PutUint16(b, uint16(d[i])) }
	case []half.BFloat16:
		dt, n = safetensors.BF16, len(d)
		write = func(b []byte, i int) { binary.LittleEndian.PutUint16(b, uint16(d[i])) }
	case []int64:
		dt, n = safetensors.I64, len(d)
		write = func(b []byte, i int) { binary.LittleEndian.PutUint64(b, uint64(d[i])) }
	case []int32:
		dt, n = safetensors.I32, len(d)
		write = func(b []byte, i int) { binary.LittleEndian.PutUint32(b, uint32(d[i])) }
	case []int16:
		dt, n = safetensors.I16, len(d)
		write = func(b []byte, i int) { binary.LittleEndian.PutUint16(b, uint16(d[i])) }
	case []int8:
		dt, n = safetensors.I8, len(d)
		write = func(b []byte, i int) { b[0] = byte(d[i]) }
	case []uint8:
		dt, n = safetensors.U8, len(d)
		write = func(b []byte, i int) { b[0] = d[i] }
	case []bool:
		dt, n = safetensors.Bool, len(d)
		write = func(b []byte, i int) {
			b[0] = 0
			if d[i] {
				b[0] = 1
			}
		}
	default:
		return safetensors.Tensor{}, fmt.Errorf("unsupported storage %T", d)
	}
	shape := append([]int64{}, st.Size...)
	if len(st.Stride) != len(shape) {
		return safetensors.Tensor{}, fmt.Errorf("stride %v does not match shape %v", st.Stride, shape)
	}
	numel := int64(1)
	for _, s := range shape {
		numel *= s
	}
	sz := dt.Size()
	buf := make([]byte, int(numel)*sz)
	idx := make([]int64, len(shape))
	for e := int64(0); e < numel; e++ {
		off := st.StorageOffset
		for d := range idx {
			off += idx[d] * st.Stride[d]
		}
		if off < 0 || off >= int64(n) {
			return safetensors.Tensor{}, fmt.Errorf("element offset %d outside storage of %d", off, n)
		}
		write(buf[int(e)*sz:], int(off))
		for d := len(idx) - 1; d >= 0; d-- { // row-major increment
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return safetensors.Tensor{DType: dt, Shape: shape, Data: buf}, nil
}
