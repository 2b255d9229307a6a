package torchutil

import (
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func needProc(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
}

func TestRSS(t *testing.T) {
	needProc(t)
	r, err := RSS()
	require.NoError(t, err)
	p, err := PeakRSS()
	require.NoError(t, err)
	assert.Greater(t, r, int64(1<<20))
	// VmHWM is only refreshed on some kernel paths (munmap, exit, reads), so
	// it may trail a later VmRSS reading by a few pages.
	assert.Greater(t, float64(p), 0.9*float64(r))
	if ResetPeakRSS() == nil {
		p2, err := PeakRSS()
		require.NoError(t, err)
		assert.Less(t, float64(p2), 1.1*float64(p))
	}
	pk, err := PeakMemory(gotch.CPU)
	require.NoError(t, err)
	assert.Equal(t, pk.Allocated, pk.Reserved, "one number on the CPU")
	assert.Greater(t, pk.Reserved, int64(1<<20))
	_, err = procStatusKiB("VmNoSuchField")
	assert.ErrorContains(t, err, "has no VmNoSuchField")
}

func TestLimitMemoryCPU(t *testing.T) {
	needProc(t)
	for _, tc := range []struct {
		name    string
		gib     float64
		wantErr bool // from Check
	}{
		{"tiny cap is exceeded by the process itself", 0.001, true},
		{"generous cap holds", 1024, false},
		{"zero means no cap", 0, false},
		{"negative means no cap", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := LimitMemory(gotch.CPU, tc.gib)
			require.NoError(t, err)
			err = l.Check()
			if !tc.wantErr {
				require.NoError(t, err)
				require.NoError(t, l.Close())
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrOutOfMemory)
			assert.True(t, IsOOM(err))
			assert.Regexp(t, `^torchutil: peak host memory( since the process started)? \d+\.\d{3} GiB \(\d+ bytes\) is over the memory cap 0\.001 GiB \(1073741 bytes\): out of memory: `, err.Error())
			assert.ErrorContains(t, err, OOMHint)
			assert.Equal(t, tc.gib, l.GiB())
			require.NoError(t, l.Close())
			assert.NoError(t, l.Check(), "no check after Close")
			assert.NoError(t, l.Close(), "Close twice")
		})
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		_, err := LimitMemory(gotch.CPU, bad)
		assert.ErrorContains(t, err, "want a finite number")
	}
	var none *MemoryLimit
	assert.NoError(t, none.Check(), "nil limit: no cap")
	assert.NoError(t, none.Close())
	assert.Zero(t, none.GiB())
}

// TestLimitMemoryCUDA runs only with a CUDA device: a cap of 1 GiB makes a
// 2 GiB allocation fail as out-of-memory, the peak stays under it, and
// Close lifts it. A cap above the device fails.
func TestLimitMemoryCUDA(t *testing.T) {
	if !gotch.CUDA.IsAvailable() {
		t.Skip("no CUDA device")
	}
	dev := gotch.CudaBuilder(0)
	_, err := LimitMemory(dev, 1e6)
	require.ErrorContains(t, err, "is more than cuda:0's")
	l, err := LimitMemory(dev, 1)
	require.NoError(t, err)
	defer l.Close()
	alloc := func(n int64) (err error) {
		defer Recover(&err)
		x, err := ts.Zeros([]int64{n}, gotch.Float, dev)
		if err == nil {
			x.MustDrop()
		}
		return err
	}
	err = alloc(1 << 29) // 2 GiB of float32
	require.Error(t, err)
	assert.True(t, IsOOM(err), "%v", err)
	require.NoError(t, l.Check(), "the allocator kept the peak under the cap")
	p, err := PeakMemory(dev)
	require.NoError(t, err)
	assert.LessOrEqual(t, p.Reserved, int64(1<<30))
	require.NoError(t, l.Close())
	require.NoError(t, alloc(1<<29), "Close lifted the cap")
}
