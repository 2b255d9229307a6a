package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// F16ToF32 converts an IEEE 754 binary16 value (as bits) to float32 exactly.
func F16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		// subnormal: mant × 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// F32ToF16 converts a float32 to binary16 bits, rounding to nearest even.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff { // Inf / NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// subnormal half (or zero): value = m × 2^-24
		if e < -10 {
			return sign
		}
		m := mant | 0x800000 // implicit bit
		shift := uint32(14 - e)
		half := m >> shift
		rem := m & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, up to Inf: correct
	}
	return sign | uint16(half)
}

// BF16ToF32 converts bfloat16 bits to float32 exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 converts a float32 to bfloat16 bits, rounding to nearest even.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 { // NaN: keep it quiet NaN
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// Float32s returns the elements of a floating-point tensor (F32, F16, BF16
// or F64) as float32, converting exactly (F64 rounds to nearest).
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	n := int(t.Numel())
	out := make([]float32, n)
	d := t.Data
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = BF16ToF32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	default:
		return nil, fmt.Errorf("dtype %s is not floating point", t.DType)
	}
	return out, nil
}

// Int64s returns the elements of an integer tensor (I64, I32, I16, I8, U8,
// BOOL) as int64.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	out := make([]int64, int(t.Numel()))
	d := t.Data
	switch t.DType {
	case I64:
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(d[8*i:]))
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(d[4*i:])))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(binary.LittleEndian.Uint16(d[2*i:])))
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(d[i]))
		}
	case U8, Bool:
		for i := range out {
			out[i] = int64(d[i])
		}
	default:
		return nil, fmt.Errorf("dtype %s is not an integer type", t.DType)
	}
	return out, nil
}

// FromFloat32s builds a tensor of dtype (F32, F16, BF16 or F64) from float32
// values; len(data) must equal the product of shape.
func FromFloat32s(dtype DType, shape []int64, data []float32) (Tensor, error) {
	if n := numel(shape); n < 0 || n != int64(len(data)) {
		return Tensor{}, fmt.Errorf("shape %v does not hold %d values", shape, len(data))
	}
	sz := dtype.Size()
	b := make([]byte, len(data)*sz)
	switch dtype {
	case F32:
		for i, v := range data {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
	case F16:
		for i, v := range data {
			binary.LittleEndian.PutUint16(b[2*i:], F32ToF16(v))
		}
	case BF16:
		for i, v := range data {
			binary.LittleEndian.PutUint16(b[2*i:], F32ToBF16(v))
		}
	case F64:
		for i, v := range data {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(float64(v)))
		}
	default:
		return Tensor{}, fmt.Errorf("dtype %q is not floating point", dtype)
	}
	return Tensor{DType: dtype, Shape: append([]int64{}, shape...), Data: b}, nil
}

// FromInt64s builds an I64 tensor; len(data) must equal the product of shape.
func FromInt64s(shape []int64, data []int64) (Tensor, error) {
	if n := numel(shape); n < 0 || n != int64(len(data)) {
		return Tensor{}, fmt.Errorf("shape %v does not hold %d values", shape, len(data))
	}
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{DType: I64, Shape: append([]int64{}, shape...), Data: b}, nil
}

// Convert returns t converted to a floating-point dtype (F32, F16, BF16,
// F64). Converting to the same dtype returns t unchanged.
func (t Tensor) Convert(to DType) (Tensor, error) {
	if t.DType == to {
		return t, t.Validate()
	}
	v, err := t.Float32s()
	if err != nil {
		return Tensor{}, err
	}
	if t.DType == F64 && to == F64 {
		return t, nil
	}
	return FromFloat32s(to, t.Shape, v)
}
