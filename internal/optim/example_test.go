package optim_test

import (
	"fmt"
	"runtime"

	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// A training loop in HF Trainer's order: zero_grad, backward, clip, step.
// The printed weights are what torch.optim.AdamW + LambdaLR +
// clip_grad_norm_ give for the same loop.
func Example() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	w := ts.MustOfSlice([]float32{1, -2, 3}).MustSetRequiresGrad(true, true)
	defer w.MustDrop()
	params := []optim.Param{{Name: "dense.weight", Tensor: w}}
	opt, err := optim.NewAdamW(params, optim.DefaultAdamWOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer opt.Close()
	total := 10
	sched := optim.LinearSchedule{BaseLR: 0.1, Warmup: optim.WarmupSteps(0.1, total), Total: total}
	for step := 0; step < total; step++ {
		_ = opt.ZeroGrad()
		sq := w.MustMul(w, false)
		loss := sq.MustSum(gotch.Float, false) // Σ w², gradient 2w
		if err := loss.Backward(); err != nil {
			fmt.Println(err)
			return
		}
		sq.MustDrop()
		loss.MustDrop()
		if _, err := optim.ClipGradNorm(params, 1.0); err != nil {
			fmt.Println(err)
			return
		}
		if err := opt.Step(sched.LR(step)); err != nil {
			fmt.Println(err)
			return
		}
	}
	v := make([]float32, 3)
	_ = w.CopyData(v, 3)
	fmt.Printf("%.3f %.3f %.3f\n", v[0], v[1], v[2])
	fmt.Println("lr at step 0:", sched.LR(0), "peak:", sched.LR(1))
	// Output:
	// 0.503 -1.492 2.485
	// lr at step 0: 0 peak: 0.1
}

// ClipGradNormDevice leaves the norm on the device; read it only when it is
// logged.
func ExampleClipGradNormDevice() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	w := ts.MustOfSlice([]float32{3, 4}).MustSetRequiresGrad(true, true)
	defer w.MustDrop()
	sq := w.MustMul(w, false)
	loss := sq.MustSum(gotch.Float, false) // Σ w², gradient 2w = (6, 8), norm 10
	_ = loss.Backward()
	sq.MustDrop()
	loss.MustDrop()

	norm, err := optim.ClipGradNormDevice([]optim.Param{{Name: "w", Tensor: w}}, 1.0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer norm.MustDrop()
	g := w.MustGrad(false)
	defer g.MustDrop()
	v := make([]float32, 2)
	_ = g.CopyData(v, 2)
	fmt.Printf("norm %.1f, clipped gradient %.3f %.3f\n", norm.MustFloat64Value([]int64{}), v[0], v[1])
	// Output: norm 10.0, clipped gradient 0.600 0.800
}
