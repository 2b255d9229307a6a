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
// gradients fixed, on the CPU, for each implementation.
func BenchmarkAdamWStep10M(b *testing.B) {
	for _, impl := range []string{ImplSingleTensor, ImplForeach} {
		b.Run(impl, func(b *testing.B) { benchAdamW(b, impl) })
	}
}

func benchAdamW(b *testing.B, impl string) {
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
	o := DefaultAdamWOptions()
	o.Impl = impl
	opt, err := NewAdamW(params, o)
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

// BenchmarkClipGradNorm10M times clip_grad_norm_ over the same 10M set:
// ClipGradNorm (reads the norm back) and ClipGradNormDevice (foreach ops,
// no read).
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
	b.Run("host", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := ClipGradNorm(params, 1e9); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("device", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			n, err := ClipGradNormDevice(params, 1e9)
			if err != nil {
				b.Fatal(err)
			}
			n.MustDrop()
		}
	})
}
