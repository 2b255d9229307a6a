package safetensors

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustF32(t *testing.T, shape []int64, v []float32) Tensor {
	t.Helper()
	x, err := FromFloat32s(F32, shape, v)
	require.NoError(t, err)
	return x
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	ids, err := FromInt64s([]int64{2, 2}, []int64{1, -2, 3, 1 << 40})
	require.NoError(t, err)
	in := map[string]Tensor{
		"b.weight": mustF32(t, []int64{2, 3}, []float32{1, 2, 3, 4, 5, -6}),
		"a.bias":   mustF32(t, []int64{3}, []float32{0.5, 0.25, -1}),
		"ids":      ids,
		"scalar":   mustF32(t, []int64{}, []float32{7}),
		"empty":    mustF32(t, []int64{0, 4}, nil),
	}
	meta := map[string]string{"format": "pt"}
	require.NoError(t, WriteFile(path, in, meta))

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(raw)
	assert.Zero(t, n%8, "header padded to 8 bytes")
	assert.Contains(t, string(raw[8:8+n]), `"__metadata__":{"format":"pt"}`)

	got, gotMeta, err := ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, meta, gotMeta)
	require.Len(t, got, len(in))
	for k, want := range in {
		assert.Equal(t, want.DType, got[k].DType, k)
		assert.Equal(t, want.Shape, got[k].Shape, k)
		assert.Equal(t, len(want.Data), len(got[k].Data), k)
		if len(want.Data) > 0 {
			assert.Equal(t, want.Data, got[k].Data, k)
		}
	}
	v, err := got["ids"].Int64s()
	require.NoError(t, err)
	assert.Equal(t, []int64{1, -2, 3, 1 << 40}, v)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

// build writes a header and buffer by hand.
func build(header string, buf []byte) []byte {
	out := make([]byte, 8)
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	out = append(out, header...)
	return append(out, buf...)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty file", nil, "truncated header: file has 0 bytes"},
		{"truncated header", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, nil)[:20], "truncated header: header length"},
		{"huge header", func() []byte { b := make([]byte, 16); binary.LittleEndian.PutUint64(b, 1<<40); return b }(), "exceeds the limit"},
		{"not json", build(`[1,2]`, nil), "header is not a JSON object"},
		{"unknown dtype", build(`{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}`, make([]byte, 1)), `"a": unknown dtype "F8"`},
		{"size mismatch", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4)), `"a": dtype F32 shape [2] needs 2×4 bytes, have 4`},
		{"offset past end", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 4)), `"a": data_offsets [0, 8] outside the 4-byte buffer`},
		{"gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)), `"a": data_offsets start at 4, want 0`},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)), "tensors must be contiguous"},
		{"trailing bytes", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 6)), "buffer has 6 bytes but the tensors cover 4"},
		{"bad metadata", build(`{"__metadata__":{"a":1}}`, nil), "__metadata__ must map strings to strings"},
		{"unknown field", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, make([]byte, 4)), `"a": bad header entry`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse(tc.raw)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestReadFileNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, os.WriteFile(path, []byte{1, 2, 3}, 0o644))
	_, _, err := ReadFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "safetensors: "+path+": truncated header")
	_, _, err = ReadFile(filepath.Join(t.TempDir(), "missing.safetensors"))
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestHalfConversions(t *testing.T) {
	tests := []struct {
		f    float32
		f16  uint16
		bf16 uint16
	}{
		{0, 0x0000, 0x0000},
		{1, 0x3c00, 0x3f80},
		{-2, 0xc000, 0xc000},
		{65504, 0x7bff, 0x4780}, // bf16 rounds up to 65536,
		{float32(math.Inf(1)), 0x7c00, 0x7f80},
		{5.960464477539063e-08, 0x0001, 0x3380}, // smallest f16 subnormal
		{0.333251953125, 0x3555, 0x3eab},        // exact f16; bf16 rounds up (low bits 0xa000)
	}
	for _, tc := range tests {
		assert.Equal(t, tc.f16, F32ToF16(tc.f), "f16(%g)", tc.f)
		assert.Equal(t, tc.bf16, F32ToBF16(tc.f), "bf16(%g)", tc.f)
		assert.Equal(t, tc.f, F16ToF32(tc.f16), "f16 %#x", tc.f16)
	}
	// ties to even
	assert.Equal(t, uint16(0x3c00), F32ToF16(1+1.0/2048)) // halfway between 1 and next: to even (1)
	assert.Equal(t, uint16(0x3c02), F32ToF16(1+3.0/2048)) // halfway, odd below: up
	assert.Equal(t, uint16(0x3f80), F32ToBF16(1+1.0/256)) // halfway: to even
	assert.Equal(t, uint16(0x3f82), F32ToBF16(1+3.0/256)) // halfway, odd: up
	assert.Equal(t, uint16(0x7c00), F32ToF16(70000))      // overflow
	assert.True(t, math.IsNaN(float64(F16ToF32(F32ToF16(float32(math.NaN()))))))
	assert.True(t, math.IsNaN(float64(BF16ToF32(F32ToBF16(float32(math.NaN()))))))
	// every finite f16 survives f16 -> f32 -> f16
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 {
			continue
		}
		require.Equal(t, uint16(h), F32ToF16(F16ToF32(uint16(h))), "%#x", h)
	}
}

func TestConvert(t *testing.T) {
	x := mustF32(t, []int64{3}, []float32{1, 0.5, -3.25})
	for _, d := range []DType{F16, BF16, F64, F32} {
		y, err := x.Convert(d)
		require.NoError(t, err)
		assert.Equal(t, d, y.DType)
		v, err := y.Float32s()
		require.NoError(t, err)
		assert.Equal(t, []float32{1, 0.5, -3.25}, v, d)
	}
	_, err := x.Convert(I64)
	assert.Error(t, err)
	ids, _ := FromInt64s([]int64{1}, []int64{1})
	_, err = ids.Float32s()
	assert.ErrorContains(t, err, "not floating point")
}

func TestMarshalRejectsInvalid(t *testing.T) {
	_, err := Marshal(map[string]Tensor{"w": {DType: F32, Shape: []int64{2}, Data: make([]byte, 4)}}, nil)
	assert.ErrorContains(t, err, `"w": dtype F32 shape [2] needs 2×4 bytes, have 4`)
	_, err = Marshal(map[string]Tensor{"__metadata__": mustF32(t, []int64{1}, []float32{1})}, nil)
	assert.ErrorContains(t, err, "reserved")
}
