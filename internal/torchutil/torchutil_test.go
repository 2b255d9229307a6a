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

func TestParseDevice(t *testing.T) {
	d, err := ParseDevice("CPU")
	require.NoError(t, err)
	assert.Equal(t, gotch.CPU, d)
	assert.Equal(t, "cpu", DeviceString(d))
	for _, bad := range []string{"", "gpu", "cuda:x", "cuda:-1"} {
		_, err := ParseDevice(bad)
		assert.Error(t, err, bad)
	}
	if !gotch.CUDA.IsAvailable() {
		_, err := ParseDevice("cuda")
		assert.ErrorContains(t, err, "CUDA is not available")
	} else {
		d, err := ParseDevice("cuda:0")
		require.NoError(t, err)
		assert.True(t, d.IsCuda())
		assert.Equal(t, "cuda:0", DeviceString(d))
	}
}

func TestValidDevice(t *testing.T) {
	for _, tc := range []struct {
		in    string
		valid bool
		name  string
	}{
		{"", true, "cpu"},
		{" CPU ", true, "cpu"},
		{"cuda", true, "cuda"},
		{"CUDA:12", true, "cuda:12"},
		{"cuda:", false, "cuda:"},
		{"cuda:x", false, "cuda:x"},
		{"cuda:-1", false, "cuda:-1"},
		{"cuda:+1", false, "cuda:+1"},
		{"gpu", false, "gpu"},
	} {
		assert.Equal(t, tc.valid, ValidDevice(tc.in), tc.in)
		assert.Equal(t, tc.name, DeviceName(tc.in), tc.in)
	}
}

func TestSameDevice(t *testing.T) {
	assert.True(t, SameDevice(gotch.CPU, gotch.Device{Name: "CPU", Value: 1}))
	assert.False(t, SameDevice(gotch.CPU, gotch.CudaBuilder(0)))
	assert.False(t, SameDevice(gotch.CudaBuilder(1), gotch.CudaBuilder(0)))
	assert.True(t, SameDevice(gotch.CudaBuilder(1), gotch.CudaBuilder(1)))
}

func TestGradRestored(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	require.True(t, GradEnabled())
	err := NoGrad(func() error {
		assert.False(t, GradEnabled())
		// nested NoGrad must leave grad off afterwards (ts.NoGrad would turn it on)
		require.NoError(t, NoGrad(func() error { return nil }))
		assert.False(t, GradEnabled(), "nested NoGrad restored the outer state")
		return errors.New("boom")
	})
	assert.EqualError(t, err, "boom")
	assert.True(t, GradEnabled())

	err = NoGrad(func() error { panic("gotch panic") })
	assert.ErrorContains(t, err, "gotch panic")
	assert.True(t, GradEnabled(), "grad restored after a panic")
}

func TestSeedAndThreads(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	draw := func() float64 {
		x, err := ts.Randn([]int64{4}, gotch.Float, gotch.CPU)
		require.NoError(t, err)
		defer x.MustDrop()
		v, err := x.Float64Value([]int64{3})
		require.NoError(t, err)
		return v
	}
	ManualSeed(7)
	a := draw()
	ManualSeed(7)
	b := draw()
	assert.Equal(t, a, b)
	n := NumThreads()
	assert.GreaterOrEqual(t, n, 1)
	SetNumThreads(1)
	assert.Equal(t, 1, NumThreads())
	SetNumThreads(n)
}

func ExampleParseDevice() {
	d, err := ParseDevice("cpu")
	if err != nil {
		panic(err)
	}
	fmt.Println(DeviceString(d))
	// Output: cpu
}
