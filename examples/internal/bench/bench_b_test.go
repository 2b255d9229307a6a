package bench

import (
	"runtime"
	"testing"

	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// BenchmarkMakeBatch is the host-side batch recipe at the paper's MLM size
// (4 × 512, mBERT vocabulary).
func BenchmarkMakeBatch(b *testing.B) {
	for _, task := range []string{TaskNER, TaskMLM} {
		b.Run(task, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := MakeBatch(task, 4, 512, 119547, uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTrainStepTiny times one full training step (forward, loss,
// backward, clip, AdamW, zero grad) of the tiny config at batch 4 × 32 on
// the CPU: the per-step overhead of this library's Go side plus libtorch's
// dispatch, with almost no arithmetic.
func BenchmarkTrainStepTiny(b *testing.B) {
	for _, task := range []string{TaskNER, TaskMLM} {
		b.Run(task, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			prev := ts.UseFinalizer
			ts.UseFinalizer = false
			defer func() { ts.UseFinalizer = prev }()
			o := tinyOptions(task)
			o.Batch, o.Seq = 4, 32
			err := torchutil.SetGrad(true, func() error {
				r, err := newRunner(o)
				if err != nil {
					return err
				}
				defer r.close()
				if err := r.step(); err != nil { // optimizer state allocation
					return err
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := r.step(); err != nil {
						return err
					}
				}
				b.StopTimer()
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(o.Batch*o.Seq)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
