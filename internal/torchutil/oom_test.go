package torchutil

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func TestIsOOM(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"CUDA caching allocator", errors.New("Libtorch API Error: CUDA out of memory. Tried to allocate 1.46 GiB (GPU 0; 11.76 GiB total capacity)"), true},
		{"CPU allocator", errors.New("[enforce fail at alloc_cpu.cpp:75] . DefaultCPUAllocator: can't allocate memory: you tried to allocate 1099511627776 bytes"), true},
		{"CPU allocator, torch 2", errors.New("DefaultCPUAllocator: not enough memory: you tried to allocate 8 bytes"), true},
		{"cuBLAS", errors.New("CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate(handle)"), true},
		{"wrapped sentinel", fmt.Errorf("x: %w", ErrOutOfMemory), true},
		{"shape error", errors.New("shape mismatch"), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, IsOOM(tc.err))
		})
	}
}

func TestWrapOOM(t *testing.T) {
	cuda := errors.New("torch: Libtorch API Error: CUDA out of memory. Tried to allocate 1.46 GiB\nException raised from malloc at CUDACachingAllocator.cpp:913\nframe #0: c10::Error::Error")
	err := WrapOOM(cuda, "ner: train step 12, batch 4 × 256 on cuda:0")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrOutOfMemory)
	assert.ErrorIs(t, err, cuda, "the libtorch error stays in the chain")
	assert.Equal(t, "ner: train step 12, batch 4 × 256 on cuda:0: out of memory: "+OOMHint+
		"; libtorch: torch: Libtorch API Error: CUDA out of memory. Tried to allocate 1.46 GiB", err.Error())
	assert.NotContains(t, err.Error(), "-batch", "the library names no flag; the commands add theirs")
	assert.NotContains(t, err.Error(), "-grad-accum")

	assert.Equal(t, "out of memory: "+OOMHint+"; libtorch: DefaultCPUAllocator: can't allocate memory",
		WrapOOM(errors.New("DefaultCPUAllocator: can't allocate memory"), "").Error(), "no what: no prefix")

	other := errors.New("shape mismatch")
	assert.Same(t, other, WrapOOM(other, "step 1"), "not an OOM: unchanged")
	assert.NoError(t, WrapOOM(nil, "step 1"))
	assert.Same(t, err, WrapOOM(err, "again"), "already wrapped: unchanged")
	limit := fmt.Errorf("torchutil: peak host memory 2 GiB is over the memory cap 1 GiB: %w: %s", ErrOutOfMemory, OOMHint)
	assert.Same(t, limit, WrapOOM(limit, "step 1"), "a MemoryLimit error is not wrapped twice")
}

// TestRecoverCatchesMustFailure: in the patched gotch (ts.MustPanics) a
// failing Must* op panics instead of calling log.Fatal, so a deferred
// Recover returns the failure as an error and the process goes on. Stock
// gotch would end this test binary here. The tensor needs 2⁴⁷ bytes, the
// whole user address space of x86-64, so no kernel setting can grant it.
func TestRecoverCatchesMustFailure(t *testing.T) {
	require.True(t, ts.MustPanics, "the patched gotch from go run ./examples/setup")
	alloc := func() (err error) {
		defer Recover(&err)
		x := ts.MustZeros([]int64{1 << 45}, gotch.Float, gotch.CPU)
		x.MustDrop()
		return nil
	}
	err := alloc()
	require.Error(t, err)
	assert.ErrorContains(t, err, "torch: ")
	assert.True(t, IsOOM(err), "libtorch's CPU allocator message: %v", err)
	w := WrapOOM(err, "test: zeros 2^45 on cpu")
	assert.ErrorIs(t, w, ErrOutOfMemory)
	assert.ErrorContains(t, w, "test: zeros 2^45 on cpu: out of memory: "+OOMHint)

	// Grad mode is restored and the thread is usable after the recovered
	// failure.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	err = NoGrad(func() error {
		y := ts.MustZeros([]int64{1 << 45}, gotch.Float, gotch.CPU)
		y.MustDrop()
		return nil
	})
	assert.True(t, IsOOM(err))
	assert.True(t, GradEnabled())
	z := ts.MustOnes([]int64{2, 2}, gotch.Float, gotch.CPU)
	defer z.MustDrop()
	sum := z.MustSum(gotch.Float, false)
	defer sum.MustDrop()
	assert.Equal(t, 4.0, sum.Float64Values()[0])
}
