package bert

import (
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
)

// TestCUDAMatchesCPU runs the MLM fixture on the first CUDA device and
// compares with the CPU reference within 1e-4 (TF32 and kernel differences).
// It skips without CUDA.
func TestCUDAMatchesCPU(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !gotch.CUDA.IsAvailable() {
		t.Skip("no CUDA device")
	}
	e := readExpected(t, "tiny")
	dev := gotch.CudaBuilder(0)
	for _, head := range []Head{HeadBase, HeadMaskedLM, HeadTokenClassification} {
		t.Run(string(head), func(t *testing.T) {
			m, _, err := FromPretrained(filepath.Join("testdata", "tiny", string(head)), head, LoadOptions{Device: dev})
			require.NoError(t, err)
			assert.True(t, m.Device().IsCuda())
			s := tensors.NewScope()
			defer s.Drop()
			out, err := m.Forward(e.inputs(t, s), false) // CPU inputs are moved to the device
			require.NoError(t, err)
			got, _ := values(t, s.Add(out))
			want := map[Head][]float64{HeadBase: e.LastHidden, HeadMaskedLM: e.MLMLogits, HeadTokenClassification: e.TokenLogits}[head]
			assert.InDeltaSlice(t, want, got, 1e-4)
			maxDiff := 0.0
			for i := range want {
				maxDiff = math.Max(maxDiff, math.Abs(want[i]-got[i]))
			}
			var enc *Model
			switch x := m.(type) {
			case *Model:
				enc = x
			case *ForMaskedLM:
				enc = x.Bert
			case *ForTokenClassification:
				enc = x.Bert
			}
			require.NotNil(t, enc)
			assert.True(t, enc.FusedQKV(), "fused QKV is the default")
			t.Logf("%s on cuda:0 (fused QKV, SDPA %v): max |CUDA − reference| %.3g over %d values", head, enc.SDPA(), maxDiff, len(got))
		})
	}
}
