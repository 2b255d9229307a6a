package optim

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// BenchmarkAdamWStep10M times one AdamW update of 10M float32 parameters
// split into BERT-like tensors (100 × [256 × 384] weights + 100 biases),
// gradients fixed, on the CPU.
func BenchmarkAdamWStep10M(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var params []Param
	var total int64
	for i := 0; total < 10_000_000; i++ {
		for _, shape := range [][]int64{{256, 384}, {384}} {
			x := ts.MustRandn(shape, gotch.Float, gotch.CPU)
			x = x.MustSetRequiresGrad(true, true)
			s := x.MustSum(gotch.Float, false)
			if err := s.Backward(); err != nil {
				b.Fatal(err)
			}
			s.MustDrop()
			name := "layer." + strconv.Itoa(i) + ".weight"
			if len(shape) == 1 {
				name = "layer." + strconv.Itoa(i) + ".bias"
			}
			params = append(params, Param{Name: name, Tensor: x})
			total += int64(x.Numel())
		}
	}
	defer func() {
		for _, p := range params {
			p.Tensor.MustDrop()
		}
	}()
	opt, err := NewAdamW(params, DefaultAdamWOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer opt.Close()
	if err := opt.Step(1e-3); err != nil { // create the state outside the timing
		b.Fatal(err)
	}
	b.ReportMetric(float64(total), "params")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := opt.Step(1e-3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClipGradNorm10M times clip_grad_norm_ over the same 10M set.
func BenchmarkClipGradNorm10M(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var params []Param
	for i := 0; i < 102; i++ {
		x := ts.MustRandn([]int64{256, 384}, gotch.Float, gotch.CPU).MustSetRequiresGrad(true, true)
		s := x.MustSum(gotch.Float, false)
		if err := s.Backward(); err != nil {
			b.Fatal(err)
		}
		s.MustDrop()
		params = append(params, Param{Name: "w" + strconv.Itoa(i), Tensor: x})
	}
	defer func() {
		for _, p := range params {
			p.Tensor.MustDrop()
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ClipGradNorm(params, 1e9); err != nil {
			b.Fatal(err)
		}
	}
}
