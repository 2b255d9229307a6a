package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
)

// TestRunFP16NeedsCUDA: -dtype fp16 is a valid option that a CPU run
// refuses before building the model, with bert's error.
func TestRunFP16NeedsCUDA(t *testing.T) {
	o := tinyOptions(TaskMLM)
	o.DType = DTypeFP16
	require.NoError(t, o.Validate())
	o.Device = gotch.CPU
	before := len(ts.ExistingTensors)
	_, err := Run(o)
	require.ErrorIs(t, err, bert.ErrFP16NeedsCUDA)
	assert.EqualError(t, err, "bench: -dtype fp16: fp16 needs a CUDA device; use bf16 or fp32 on the CPU (device cpu)")
	assert.Equal(t, before, len(ts.ExistingTensors))
}

func TestModelPrecisionAndScaler(t *testing.T) {
	for _, tc := range []struct {
		dtype  string
		prec   bert.Precision
		scaled bool
	}{
		{DTypeFP32, bert.PrecisionFP32, false},
		{DTypeTF32, bert.PrecisionFP32, false},
		{DTypeBF16, bert.PrecisionBF16, false},
		{DTypeFP16, bert.PrecisionFP16, true},
	} {
		t.Run(tc.dtype, func(t *testing.T) {
			assert.Equal(t, tc.prec, modelPrecision(tc.dtype))
			s, err := newScaler(tc.dtype)
			require.NoError(t, err)
			assert.Equal(t, tc.scaled, s.Enabled())
			if tc.scaled {
				assert.Equal(t, 65536.0, s.ScaleValue(), "torch's default init_scale")
			}
		})
	}
}

// TestRunFP16 is TestRunBF16 at fp16 with loss scaling on the first CUDA
// device: every tensor is dropped and with dropout off the last loss is
// close to the fp32 run's on the same device. It skips without CUDA.
func TestRunFP16(t *testing.T) {
	if !gotch.CUDA.IsAvailable() {
		t.Skip("no CUDA device (fp16 needs one)")
	}
	for _, task := range []string{TaskNER, TaskMLM} {
		t.Run(task, func(t *testing.T) {
			loss := map[string]float64{}
			for _, dt := range []string{DTypeFP32, DTypeFP16} {
				o := tinyOptions(task)
				o.DType, o.Dropout, o.Device = dt, 0, gotch.CudaBuilder(0)
				before := len(ts.ExistingTensors)
				res, err := Run(o)
				require.NoError(t, err)
				assert.Equal(t, before, len(ts.ExistingTensors), "Run drops every tensor it creates")
				assert.Equal(t, dt, res.DType)
				require.NotNil(t, res.LastLoss)
				loss[dt] = *res.LastLoss
			}
			t.Logf("last loss fp32 %.4f fp16 %.4f", loss[DTypeFP32], loss[DTypeFP16])
			assert.InEpsilon(t, loss[DTypeFP32], loss[DTypeFP16], 2e-2)
		})
	}
}
