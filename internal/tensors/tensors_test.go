package tensors

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"
)

func TestRoundTripDTypes(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	vals := []float32{1, -2.5, 0.125, 3, 1024, -0.0625}
	for _, d := range []safetensors.DType{safetensors.F32, safetensors.F16, safetensors.BF16, safetensors.F64} {
		t.Run(string(d), func(t *testing.T) {
			st, err := safetensors.FromFloat32s(d, []int64{2, 3}, vals)
			require.NoError(t, err)
			x, err := FromSafetensors(st, gotch.CPU)
			require.NoError(t, err)
			defer x.MustDrop()
			gd, _ := GotchDType(d)
			assert.Equal(t, gd, x.DType())
			assert.Equal(t, []int64{2, 3}, x.MustSize())
			back, err := ToSafetensors(x)
			require.NoError(t, err)
			assert.Equal(t, st, back)
		})
	}
	ids, err := FromInt64s([]int64{1, 2, 3, -100}, []int64{2, 2}, gotch.CPU)
	require.NoError(t, err)
	defer ids.MustDrop()
	assert.Equal(t, gotch.Int64, ids.DType())
	v, err := Int64s(ids)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3, -100}, v)

	// a non-contiguous view comes back row-major
	tr, err := ids.Transpose(0, 1, false)
	require.NoError(t, err)
	defer tr.MustDrop()
	v, err = Int64s(tr)
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 3, 2, -100}, v)

	_, err = FromInt64s([]int64{1, 2, 3}, []int64{2, 2}, gotch.CPU)
	assert.ErrorContains(t, err, "shape [2 2] does not hold 3 values")
}

func TestScopeDropsEverything(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before := len(ts.ExistingTensors)
	s := NewScope()
	x := s.Add(ts.MustOnes([]int64{3}, gotch.Float, gotch.CPU))
	y := s.Add(x.MustMulScalar(ts.FloatScalar(2), false))
	s.Add(y)   // added twice: dropped once
	s.Add(nil) // ignored
	assert.Equal(t, 3, s.Len())
	assert.Equal(t, before+2, len(ts.ExistingTensors))
	s.Drop()
	assert.Equal(t, before, len(ts.ExistingTensors))
	assert.Zero(t, s.Len())
}

func ExampleFromInt64s() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ids, err := FromInt64s([]int64{101, 7, 102, 0}, []int64{2, 2}, gotch.CPU)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ids.MustDrop()
	fmt.Println(ids.MustSize(), ids.DType())
	// Output: [2 2] Int64
}

func TestFromSafetensorsScalar(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st, err := safetensors.FromInt64s([]int64{}, []int64{7})
	require.NoError(t, err)
	x, err := FromSafetensors(st, gotch.CPU)
	require.NoError(t, err)
	defer x.MustDrop()
	assert.Equal(t, []int64{}, x.MustSize())
	assert.Equal(t, int64(7), x.Int64Values()[0])
}

// TestAccumulateAndReadScalars: a running sum of 0-dim tensors and one read
// of several (nil entries are NaN) give the host values, and nothing is
// left behind.
func TestAccumulateAndReadScalars(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before := len(ts.ExistingTensors)
	scalar := func(v float32) *ts.Tensor {
		st, err := safetensors.FromFloat32s(safetensors.F32, []int64{}, []float32{v})
		require.NoError(t, err)
		x, err := FromSafetensors(st, gotch.CPU)
		require.NoError(t, err)
		return x
	}
	var sum *ts.Tensor
	for _, v := range []float32{0.5, 1.25, 2} {
		var err error
		sum, err = Accumulate(sum, scalar(v))
		require.NoError(t, err)
	}
	one := scalar(-3)
	vals, err := ReadScalars([]*ts.Tensor{sum, nil, one})
	require.NoError(t, err)
	require.Len(t, vals, 3)
	assert.Equal(t, 3.75, vals[0])
	assert.True(t, math.IsNaN(vals[1]))
	assert.Equal(t, -3.0, vals[2])
	empty, err := ReadScalars([]*ts.Tensor{nil})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(empty[0]))
	DropAll(sum, nil, one)
	assert.Equal(t, before, len(ts.ExistingTensors))
}

// TestPinMemory: bbshim.PinMemory (toDevice's path for batches going to
// CUDA) copies a CPU tensor into pinned memory where libtorch has an
// accelerator, and fails cleanly (toDevice then copies synchronously) where
// it has none. With CUDA, a batch uploaded through it arrives intact.
func TestPinMemory(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x, err := FromInt64s([]int64{1, 2, 3, 4, 5, 6}, []int64{2, 3}, gotch.CPU)
	require.NoError(t, err)
	defer x.MustDrop()
	p, err := bbshim.PinMemory(x)
	if !gotch.CUDA.IsAvailable() {
		require.Error(t, err, "a CPU-only libtorch cannot pin")
		assert.Nil(t, p)
		return
	}
	require.NoError(t, err)
	got, err := Int64s(p)
	p.MustDrop()
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 2, 3, 4, 5, 6}, got)
	y, err := FromInt64s([]int64{7, 8, 9}, []int64{3}, gotch.CudaBuilder(0))
	require.NoError(t, err)
	defer y.MustDrop()
	assert.True(t, y.MustDevice().IsCuda())
	got, err = Int64s(y)
	require.NoError(t, err)
	assert.Equal(t, []int64{7, 8, 9}, got)
}
