package optim

import (
	"fmt"
	"math"
	"runtime"

	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"
)

// ClipGradNorm is torch.nn.utils.clip_grad_norm_ with the L2 norm: the
// total norm is the L2 norm of the per-gradient L2 norms (float32 on the
// gradients' device, as torch computes it), the clip coefficient is
// clamp(maxNorm / (total + 1e-6), max=1), and every gradient is multiplied
// by it when it is below 1 (torch multiplies always; a factor of exactly 1
// changes nothing). Parameters without a gradient are skipped; with none at
// all the norm is 0. A non-finite norm is returned as is (torch's default
// error_if_nonfinite=False) and the gradients are then scaled by NaN.
func ClipGradNorm(params []Param, maxNorm float64) (totalNorm float64, err error) {
	if !(maxNorm > 0) || math.IsInf(maxNorm, 0) {
		return 0, fmt.Errorf("optim: ClipGradNorm: max norm %v must be finite and > 0", maxNorm)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "ClipGradNorm")
	prev, err := setGradEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("optim: ClipGradNorm: %w", err)
	}
	defer setGradEnabled(prev)

	var grads, norms []*ts.Tensor
	defer func() {
		for _, t := range norms {
			t.MustDrop()
		}
		for _, t := range grads {
			t.MustDrop()
		}
	}()
	two := ts.FloatScalar(2)
	defer runtime.KeepAlive(two)
	for _, p := range params {
		g, err := p.Tensor.Grad(false)
		if err != nil {
			return 0, fmt.Errorf("optim: ClipGradNorm: %s: %w", p.Name, err)
		}
		if !g.MustDefined() {
			g.MustDrop()
			continue
		}
		grads = append(grads, g)
		n, err := g.NormScalaroptDim(two, allDims(g), false, false)
		if err != nil {
			return 0, fmt.Errorf("optim: ClipGradNorm: norm of %s: %w", p.Name, err)
		}
		norms = append(norms, n)
	}
	if len(grads) == 0 {
		return 0, nil
	}
	stacked, err := ts.Stack(norms, 0)
	if err != nil {
		return 0, fmt.Errorf("optim: ClipGradNorm: %w", err)
	}
	defer stacked.MustDrop()
	total, err := stacked.NormScalaroptDim(two, []int64{0}, false, false)
	if err != nil {
		return 0, fmt.Errorf("optim: ClipGradNorm: %w", err)
	}
	defer total.MustDrop()
	totalNorm, err = total.Float64Value([]int64{})
	if err != nil {
		return 0, fmt.Errorf("optim: ClipGradNorm: %w", err)
	}
	// coef = maxNorm / (total + 1e-6), in the gradients' dtype: Python's
	// float / tensor is tensor.reciprocal() * float.
	eps := ts.FloatScalar(1e-6)
	maxS := ts.FloatScalar(maxNorm)
	one := ts.FloatScalar(1)
	defer runtime.KeepAlive(eps)
	defer runtime.KeepAlive(maxS)
	defer runtime.KeepAlive(one)
	den, err := total.AddScalar(eps, false)
	if err != nil {
		return 0, fmt.Errorf("optim: ClipGradNorm: %w", err)
	}
	defer den.MustDrop()
	rec, err := den.Reciprocal(false)
	if err != nil {
		return 0, fmt.Errorf("optim: ClipGradNorm: %w", err)
	}
	defer rec.MustDrop()
	coef, err := rec.MulScalar(maxS, false)
	if err != nil {
		return 0, fmt.Errorf("optim: ClipGradNorm: %w", err)
	}
	defer coef.MustDrop()
	c, err := coef.Float64Value([]int64{})
	if err != nil {
		return 0, fmt.Errorf("optim: ClipGradNorm: %w", err)
	}
	if c >= 1 {
		return totalNorm, nil
	}
	for i, g := range grads {
		if err := dropResult(g.MulOut(g, coef, false)); err != nil {
			return 0, fmt.Errorf("optim: ClipGradNorm: scale gradient %d: %w", i, err)
		}
	}
	return totalNorm, nil
}

// ClipGradNormDevice is ClipGradNorm without any device→host read, as
// torch 2.x's clip_grad_norm_(foreach=True): the per-gradient norms
// (_foreach_norm), total = ‖norms‖₂, coef = clamp(maxNorm / (total + 1e-6),
// max=1) and gᵢ ← gᵢ · coef (_foreach_mul_) are all computed on the
// gradients' device, so on CUDA the call only queues kernels. It returns
// the total norm as a new 0-dim tensor that the caller drops; read it only
// when needed (every N steps), since reading waits for the device. With no
// gradient at all it returns a 0 on the first parameter's device (torch:
// tensor(0.)). Non-finite norms are not an error (error_if_nonfinite=False).
func ClipGradNormDevice(params []Param, maxNorm float64) (totalNorm *ts.Tensor, err error) {
	if !(maxNorm > 0) || math.IsInf(maxNorm, 0) {
		return nil, fmt.Errorf("optim: ClipGradNormDevice: max norm %v must be finite and > 0", maxNorm)
	}
	if len(params) == 0 {
		return nil, fmt.Errorf("optim: ClipGradNormDevice: no parameters")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "ClipGradNormDevice")
	var grads []*ts.Tensor
	defer func() {
		for _, g := range grads {
			g.MustDrop()
		}
	}()
	for _, p := range params {
		g, err := p.Tensor.Grad(false)
		if err != nil {
			return nil, fmt.Errorf("optim: ClipGradNormDevice: %s: %w", p.Name, err)
		}
		if !g.MustDefined() {
			g.MustDrop()
			continue
		}
		grads = append(grads, g)
	}
	if len(grads) == 0 {
		dev, err := params[0].Tensor.Device()
		if err != nil {
			return nil, fmt.Errorf("optim: ClipGradNormDevice: %w", err)
		}
		z, err := scalarTensor(0, dev)
		if err != nil {
			return nil, fmt.Errorf("optim: ClipGradNormDevice: %w", err)
		}
		return z, nil
	}
	total, err := bbshim.ClipGradNorm(grads, maxNorm)
	if err != nil {
		return nil, fmt.Errorf("optim: ClipGradNormDevice: %w", err)
	}
	return total, nil
}

func allDims(t *ts.Tensor) []int64 {
	d := make([]int64, t.Dim())
	for i := range d {
		d[i] = int64(i)
	}
	return d
}
