package optim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"
)

// Param is one trainable tensor and the name it has in the checkpoint
// (HF key, e.g. "bert.encoder.layer.0.attention.self.query.weight"). The
// optimizer reads Tensor's gradient and updates Tensor in place; it never
// drops it.
type Param struct {
	Name   string
	Tensor *ts.Tensor
}

// AdamWOptions configures NewAdamW. Start from DefaultAdamWOptions().
type AdamWOptions struct {
	Beta1       float64 // 0.9 (HF TrainingArguments.adam_beta1)
	Beta2       float64 // 0.999 (adam_beta2)
	Eps         float64 // 1e-8 (adam_epsilon)
	WeightDecay float64 // 0.01, the paper's value; 0 is valid and switches decay off
	// NoDecay reports the parameters that get weight decay 0 (the second
	// parameter group). nil means HFNoDecay.
	NoDecay func(name string) bool
	// Impl selects the update kernel: ImplAuto (the default, also for ""),
	// ImplFused, ImplForeach or ImplSingleTensor. See AdamW.Implementation.
	Impl string
}

// AdamW implementations (AdamWOptions.Impl). All compute the same update;
// they differ in how many libtorch ops (GPU kernel launches) a step takes.
const (
	// ImplAuto is ImplFused when every parameter is on one CUDA device with
	// one dtype and the linked libtorch has at::_fused_adamw_ (≥ 2.0),
	// else ImplForeach.
	ImplAuto = "auto"
	// ImplFused is torch 2.x's fused=True: one at::_fused_adamw_ kernel per
	// weight-decay group, step counters on the device.
	ImplFused = "fused"
	// ImplForeach is torch 1.13's foreach=True (_multi_tensor_adamw): nine
	// _foreach_ ops over all parameters.
	ImplForeach = "foreach"
	// ImplSingleTensor is torch's foreach=False (_single_tensor_adamw):
	// about a dozen gotch ops per parameter.
	ImplSingleTensor = "single-tensor"
)

// DefaultAdamWOptions returns HF Trainer's AdamW settings with the paper's
// weight decay: betas (0.9, 0.999), eps 1e-8, weight decay 0.01, biases and
// LayerNorm weights excluded from decay.
func DefaultAdamWOptions() AdamWOptions {
	return AdamWOptions{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
}

// Validate checks the ranges torch.optim.AdamW checks.
func (o AdamWOptions) Validate() error {
	switch {
	case !(o.Beta1 >= 0 && o.Beta1 < 1):
		return fmt.Errorf("optim: AdamWOptions.Beta1 %v not in [0, 1)", o.Beta1)
	case !(o.Beta2 >= 0 && o.Beta2 < 1):
		return fmt.Errorf("optim: AdamWOptions.Beta2 %v not in [0, 1)", o.Beta2)
	case !(o.Eps >= 0) || math.IsInf(o.Eps, 0):
		return fmt.Errorf("optim: AdamWOptions.Eps %v must be finite and >= 0", o.Eps)
	case !(o.WeightDecay >= 0) || math.IsInf(o.WeightDecay, 0):
		return fmt.Errorf("optim: AdamWOptions.WeightDecay %v must be finite and >= 0", o.WeightDecay)
	}
	switch o.Impl {
	case "", ImplAuto, ImplFused, ImplForeach, ImplSingleTensor:
	default:
		return fmt.Errorf("optim: AdamWOptions.Impl %q: want auto, fused, foreach or single-tensor", o.Impl)
	}
	return nil
}

// HFNoDecay is HF Trainer's rule for the parameters without weight decay:
// every name containing "bias" and every LayerNorm weight ("LayerNorm.weight"
// in BERT's keys; also "layer_norm.weight" and "ln" style names are not
// matched, as HF matches modules of type LayerNorm, which BERT names
// LayerNorm).
func HFNoDecay(name string) bool {
	return strings.Contains(name, "bias") || strings.Contains(name, "LayerNorm.weight")
}

// paramState is torch's per-parameter AdamW state.
type paramState struct {
	expAvg, expAvgSq *ts.Tensor // nil until the parameter's first update
	step             int64      // updates of this parameter (torch's state["step"])
	// devStep is step as a float32 0-dim tensor on the parameter's device
	// (ImplFused only; made from step when nil).
	devStep *ts.Tensor
}

// AdamW is torch.optim.AdamW (decoupled weight decay, bias correction, no
// amsgrad) over gotch tensors, with two parameter groups: decay and no
// decay. Not safe for concurrent use; call it from the goroutine (OS thread)
// that runs the training step.
type AdamW struct {
	opts   AdamWOptions
	params []Param
	decay  []bool
	state  []paramState
	steps  int64 // Step calls
	index  map[string]int
	impl   string // resolved: ImplFused, ImplForeach or ImplSingleTensor
	closed bool
}

// NewAdamW returns an optimizer over params. Names must be unique and
// tensors defined and floating point; the state is created lazily, as in
// torch, at a parameter's first update.
func NewAdamW(params []Param, o AdamWOptions) (*AdamW, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.NoDecay == nil {
		o.NoDecay = HFNoDecay
	}
	if len(params) == 0 {
		return nil, errors.New("optim: NewAdamW: no parameters")
	}
	a := &AdamW{opts: o, index: make(map[string]int, len(params))}
	for i, p := range params {
		if p.Tensor == nil {
			return nil, fmt.Errorf("optim: NewAdamW: parameter %q: nil tensor", p.Name)
		}
		if _, dup := a.index[p.Name]; dup {
			return nil, fmt.Errorf("optim: NewAdamW: duplicate parameter name %q", p.Name)
		}
		if k := p.Tensor.DType(); k != gotch.Float && k != gotch.Double && k != gotch.Half && k != gotch.BFloat16 {
			return nil, fmt.Errorf("optim: NewAdamW: parameter %q: dtype %v is not floating point", p.Name, k)
		}
		a.index[p.Name] = i
		a.params = append(a.params, p)
		a.decay = append(a.decay, !o.NoDecay(p.Name))
	}
	a.state = make([]paramState, len(params))
	impl, err := resolveImpl(o.Impl, a.params)
	if err != nil {
		return nil, err
	}
	a.impl = impl
	return a, nil
}

// resolveImpl picks the kernel for the requested implementation.
func resolveImpl(req string, params []Param) (impl string, err error) {
	defer recoverTorch(&err, "NewAdamW")
	// fused takes one device and one dtype per kernel launch.
	dev, err := params[0].Tensor.Device()
	if err != nil {
		return "", fmt.Errorf("optim: NewAdamW: %w", err)
	}
	kind := params[0].Tensor.DType()
	uniform := true
	for _, p := range params[1:] {
		d, err := p.Tensor.Device()
		if err != nil {
			return "", fmt.Errorf("optim: NewAdamW: %s: %w", p.Name, err)
		}
		if d != dev || p.Tensor.DType() != kind {
			uniform = false
			break
		}
	}
	switch req {
	case "", ImplAuto:
		if uniform && dev.IsCuda() && bbshim.HasFusedAdamW() {
			return ImplFused, nil
		}
		return ImplForeach, nil
	case ImplFused:
		if !bbshim.HasFusedAdamW() {
			maj, min, _ := bbshim.TorchVersion()
			return "", fmt.Errorf("optim: NewAdamW: Impl fused needs libtorch >= 2.0 (linked: %d.%d)", maj, min)
		}
		if !uniform {
			return "", errors.New("optim: NewAdamW: Impl fused needs every parameter on one device with one dtype")
		}
	}
	return req, nil
}

// Options returns the options in use (NoDecay filled in).
func (a *AdamW) Options() AdamWOptions { return a.opts }

// Params returns the parameters in the order given to NewAdamW.
func (a *AdamW) Params() []Param { return append([]Param(nil), a.params...) }

// Decays reports whether the named parameter is in the weight-decay group.
func (a *AdamW) Decays(name string) (decay, ok bool) {
	i, ok := a.index[name]
	if !ok {
		return false, false
	}
	return a.decay[i], true
}

// Steps returns the number of Step calls made (restored by LoadStateDict).
func (a *AdamW) Steps() int64 { return a.steps }

// Implementation names the update kernel in use: ImplFused, ImplForeach or
// ImplSingleTensor (AdamWOptions.Impl with ImplAuto resolved); see
// docs/OPTIM.md.
func (a *AdamW) Implementation() string { return a.impl }

// stepScalars holds the per-step constants of one bias-correction step.
type stepScalars struct {
	negStepSize, bc2Sqrt *ts.Scalar
}

// Step applies one AdamW update with learning rate lr to every parameter
// that has a gradient (parameters without one are skipped and their step
// counter does not advance, as in torch). It runs under no-grad on a locked
// OS thread. For a parameter p with gradient g and state m, v, t:
//
//	t ← t + 1
//	p ← p · (1 − lr·wd)                      (decay group only)
//	m ← β1·m + (1 − β1)·g
//	v ← β2·v + (1 − β2)·g²
//	p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
func (a *AdamW) Step(lr float64) (err error) {
	if a.closed {
		return errors.New("optim: AdamW.Step: optimizer closed")
	}
	if math.IsNaN(lr) || math.IsInf(lr, 0) || lr < 0 {
		return fmt.Errorf("optim: AdamW.Step: invalid learning rate %v", lr)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "AdamW.Step")
	prev, err := setGradEnabled(false)
	if err != nil {
		return fmt.Errorf("optim: AdamW.Step: %w", err)
	}
	defer setGradEnabled(prev)

	// The parameters with a gradient, their (lazily created) state.
	var live []int
	var grads []*ts.Tensor
	defer func() {
		for _, g := range grads {
			g.MustDrop()
		}
	}()
	for i, p := range a.params {
		g, err := p.Tensor.Grad(false)
		if err != nil {
			return fmt.Errorf("optim: AdamW.Step: %s: %w", p.Name, err)
		}
		if !g.MustDefined() {
			g.MustDrop()
			continue
		}
		grads = append(grads, g)
		if a.state[i].expAvg == nil {
			if err := a.initState(i); err != nil {
				return err
			}
		}
		live = append(live, i)
	}
	for _, i := range live {
		a.state[i].step++
	}
	if len(live) > 0 {
		switch a.impl {
		case ImplFused:
			err = a.stepFused(lr, live, grads)
		case ImplForeach:
			err = a.stepForeach(lr, live, grads)
		default:
			err = a.stepSingle(lr, live, grads)
		}
		if err != nil {
			return fmt.Errorf("optim: AdamW.Step: %w", err)
		}
	}
	a.steps++
	return nil
}

// biasCorrections returns −lr/(1 − β1ᵗ) and √(1 − β2ᵗ) as Python floats, as
// torch computes them (C pow, IEEE sqrt).
func (o AdamWOptions) biasCorrections(lr float64, t int64) (negStepSize, bc2Sqrt float64) {
	bc1 := 1 - cpow(o.Beta1, float64(t))
	bc2 := 1 - cpow(o.Beta2, float64(t))
	return -(lr / bc1), math.Sqrt(bc2)
}

// stepSingle is torch's _single_tensor_adamw over the parameters in live
// (step counters already incremented): update for each one in turn.
func (a *AdamW) stepSingle(lr float64, live []int, grads []*ts.Tensor) error {
	o := a.opts
	decayS := ts.FloatScalar(1 - lr*o.WeightDecay)
	b1 := ts.FloatScalar(o.Beta1)
	b2 := ts.FloatScalar(o.Beta2)
	oneMinusB1 := ts.FloatScalar(1 - o.Beta1)
	oneMinusB2 := ts.FloatScalar(1 - o.Beta2)
	eps := ts.FloatScalar(o.Eps)
	perStep := map[int64]stepScalars{}
	defer func() {
		// The scalars are freed by gotch's finalizers; keep them alive
		// until every C call that reads them has returned.
		runtime.KeepAlive(decayS)
		runtime.KeepAlive(b1)
		runtime.KeepAlive(b2)
		runtime.KeepAlive(oneMinusB1)
		runtime.KeepAlive(oneMinusB2)
		runtime.KeepAlive(eps)
		runtime.KeepAlive(perStep)
	}()
	for k, i := range live {
		st := &a.state[i]
		sc, ok := perStep[st.step]
		if !ok {
			ns, bs := o.biasCorrections(lr, st.step)
			sc = stepScalars{negStepSize: ts.FloatScalar(ns), bc2Sqrt: ts.FloatScalar(bs)}
			perStep[st.step] = sc
		}
		if err := a.update(a.params[i].Tensor, grads[k], st, a.decay[i] && o.WeightDecay != 0, decayS, b1, b2, oneMinusB1, oneMinusB2, eps, sc); err != nil {
			return fmt.Errorf("%s: %w", a.params[i].Name, err)
		}
	}
	return nil
}

// stepForeach is torch 1.13's _multi_tensor_adamw over the parameters in
// live (step counters already incremented), through gotch's bbshim package:
// one _foreach_ op per line of the update, over all of them at once.
func (a *AdamW) stepForeach(lr float64, live []int, grads []*ts.Tensor) error {
	o := a.opts
	n := len(live)
	params, ms, vs := make([]*ts.Tensor, n), make([]*ts.Tensor, n), make([]*ts.Tensor, n)
	decay := make([]bool, n)
	negStep, bc2Sqrt := make([]float64, n), make([]float64, n)
	for k, i := range live {
		st := a.state[i]
		params[k], ms[k], vs[k] = a.params[i].Tensor, st.expAvg, st.expAvgSq
		decay[k] = a.decay[i] && o.WeightDecay != 0
		negStep[k], bc2Sqrt[k] = o.biasCorrections(lr, st.step)
	}
	return bbshim.AdamWForeach(params, grads, ms, vs, decay, 1-lr*o.WeightDecay, negStep, bc2Sqrt, o.Beta1, o.Beta2, o.Eps)
}

// stepFused is torch 2.x's _fused_adamw over the parameters in live: the
// device step counters (made from the host ones when missing) are
// incremented and at::_fused_adamw_ runs once per weight-decay group.
func (a *AdamW) stepFused(lr float64, live []int, grads []*ts.Tensor) error {
	o := a.opts
	n := len(live)
	params, ms, vs, steps := make([]*ts.Tensor, n), make([]*ts.Tensor, n), make([]*ts.Tensor, n), make([]*ts.Tensor, n)
	decay := make([]bool, n)
	for k, i := range live {
		st := &a.state[i]
		if st.devStep == nil {
			dev, err := a.params[i].Tensor.Device()
			if err != nil {
				return err
			}
			// the shim adds the 1 that st.step already counts
			if st.devStep, err = scalarTensor(float64(st.step-1), dev); err != nil {
				return fmt.Errorf("%s: step tensor: %w", a.params[i].Name, err)
			}
		}
		params[k], ms[k], vs[k], steps[k] = a.params[i].Tensor, st.expAvg, st.expAvgSq, st.devStep
		decay[k] = a.decay[i] && o.WeightDecay != 0
	}
	return bbshim.AdamWFused(params, grads, ms, vs, steps, decay, lr, o.Beta1, o.Beta2, o.WeightDecay, o.Eps)
}

// update is torch 1.13's _single_tensor_adamw for one parameter, written
// with out= ops (gotch's in-place wrappers leak a tensor handle per call)
// and without the alpha/value arguments gotch does not expose:
// add_(g, alpha=c) becomes add(g·c) and addcmul_/addcdiv_(value=c) become
// addcmul/addcdiv of (c·t1), which libtorch's kernels evaluate in the same
// order ((c·t1)·t2, (c·t1)/t2), so only the first-moment update can differ
// from torch's fused multiply-add, by at most one rounding.
func (a *AdamW) update(p, g *ts.Tensor, st *paramState, decay bool, decayS, b1, b2, oneMinusB1, oneMinusB2, eps *ts.Scalar, sc stepScalars) error {
	m, v := st.expAvg, st.expAvgSq
	if decay { // p ← p·(1 − lr·wd)
		if err := dropResult(p.MulScalarOut(p, decayS, false)); err != nil {
			return err
		}
	}
	// m ← m·β1 + g·(1 − β1)
	if err := dropResult(m.MulScalarOut(m, b1, false)); err != nil {
		return err
	}
	t1, err := g.MulScalar(oneMinusB1, false)
	if err != nil {
		return err
	}
	err = dropResult(m.AddOut(m, t1, false))
	t1.MustDrop()
	if err != nil {
		return err
	}
	// v ← v·β2 + (g·(1 − β2))·g
	if err := dropResult(v.MulScalarOut(v, b2, false)); err != nil {
		return err
	}
	t2, err := g.MulScalar(oneMinusB2, false)
	if err != nil {
		return err
	}
	err = dropResult(v.AddcmulOut(v, t2, g, false))
	t2.MustDrop()
	if err != nil {
		return err
	}
	// denom ← √v / √(1 − β2ᵗ) + ε
	denom, err := v.Sqrt(false)
	if err != nil {
		return err
	}
	defer denom.MustDrop()
	if err := dropResult(denom.DivScalarOut(denom, sc.bc2Sqrt, false)); err != nil {
		return err
	}
	if err := dropResult(denom.AddScalarOut(denom, eps, false)); err != nil {
		return err
	}
	// p ← p + (m·(−lr/(1 − β1ᵗ))) / denom
	t3, err := m.MulScalar(sc.negStepSize, false)
	if err != nil {
		return err
	}
	err = dropResult(p.AddcdivOut(p, t3, denom, false))
	t3.MustDrop()
	return err
}

// initState creates zero moments shaped like parameter i.
func (a *AdamW) initState(i int) error {
	p := a.params[i].Tensor
	m, err := p.ZerosLike(false)
	if err != nil {
		return fmt.Errorf("optim: AdamW: state for %s: %w", a.params[i].Name, err)
	}
	v, err := p.ZerosLike(false)
	if err != nil {
		m.MustDrop()
		return fmt.Errorf("optim: AdamW: state for %s: %w", a.params[i].Name, err)
	}
	a.state[i] = paramState{expAvg: m, expAvgSq: v}
	return nil
}

// ZeroGrad sets every defined gradient to zero in place (torch's
// zero_grad(set_to_none=False); the next backward then writes 0 + g = g,
// the same values set_to_none would give).
func (a *AdamW) ZeroGrad() (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "AdamW.ZeroGrad")
	return zeroGrads(a.params)
}

// ZeroGrads zeroes the gradients of params in place (see AdamW.ZeroGrad).
func ZeroGrads(params []Param) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "ZeroGrads")
	return zeroGrads(params)
}

func zeroGrads(params []Param) error {
	var grads []*ts.Tensor
	defer func() {
		for _, g := range grads {
			g.MustDrop()
		}
	}()
	for _, p := range params {
		g, err := p.Tensor.Grad(false)
		if err != nil {
			return fmt.Errorf("optim: zero grad %s: %w", p.Name, err)
		}
		if !g.MustDefined() {
			g.MustDrop()
			continue
		}
		grads = append(grads, g)
	}
	// one _foreach_zero_ over all gradients: multi-tensor kernels on CUDA
	// instead of one launch (and one Go→C call) per gradient
	if err := bbshim.Zero(grads); err != nil {
		return fmt.Errorf("optim: zero grad: %w", err)
	}
	return nil
}

// State key suffixes in StateDict, after the parameter name.
const (
	KeyExpAvg   = ".exp_avg"
	KeyExpAvgSq = ".exp_avg_sq"
	KeyStep     = ".step"
)

// StateDict returns the optimizer state as new tensors the caller owns (and
// drops): for each parameter that has been updated, "<name>.exp_avg",
// "<name>.exp_avg_sq" (copies) and "<name>.step" (an int64 scalar), plus the
// number of Step calls.
func (a *AdamW) StateDict() (state map[string]*ts.Tensor, steps int64, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "AdamW.StateDict")
	out := make(map[string]*ts.Tensor)
	fail := func(e error) (map[string]*ts.Tensor, int64, error) {
		for _, t := range out {
			t.MustDrop()
		}
		return nil, 0, fmt.Errorf("optim: AdamW.StateDict: %w", e)
	}
	for i, p := range a.params {
		st := a.state[i]
		if st.expAvg == nil {
			continue
		}
		m, err := st.expAvg.DetachCopy(false)
		if err != nil {
			return fail(err)
		}
		out[p.Name+KeyExpAvg] = m
		v, err := st.expAvgSq.DetachCopy(false)
		if err != nil {
			return fail(err)
		}
		out[p.Name+KeyExpAvgSq] = v
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(st.step))
		s1, err := ts.OfDataSize(b[:], []int64{1}, gotch.Int64)
		if err != nil {
			return fail(err)
		}
		sv, err := s1.Squeeze(true) // 0-dim, as torch's state["step"]
		if err != nil {
			return fail(err)
		}
		out[p.Name+KeyStep] = sv
	}
	return out, a.steps, nil
}

// LoadStateDict replaces the optimizer state by a copy of state (as
// returned by StateDict; the caller keeps ownership of its tensors) on each
// parameter's device and dtype. Every key must name a known parameter, the
// three entries of a parameter come together and shapes must match.
func (a *AdamW) LoadStateDict(state map[string]*ts.Tensor, steps int64) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "AdamW.LoadStateDict")
	if steps < 0 {
		return fmt.Errorf("optim: AdamW.LoadStateDict: negative step count %d", steps)
	}
	seen := make(map[string]bool, len(state))
	keys := make([]string, 0, len(state))
	for k := range state {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	newState := make([]paramState, len(a.params))
	fail := func(e error) error {
		for _, st := range newState {
			if st.expAvg != nil {
				st.expAvg.MustDrop()
			}
			if st.expAvgSq != nil {
				st.expAvgSq.MustDrop()
			}
		}
		return fmt.Errorf("optim: AdamW.LoadStateDict: %w", e)
	}
	for i, p := range a.params {
		m, hasM := state[p.Name+KeyExpAvg]
		v, hasV := state[p.Name+KeyExpAvgSq]
		s, hasS := state[p.Name+KeyStep]
		if !hasM && !hasV && !hasS {
			continue
		}
		if !hasM || !hasV || !hasS {
			return fail(fmt.Errorf("parameter %q: need %s, %s and %s together", p.Name, KeyExpAvg, KeyExpAvgSq, KeyStep))
		}
		seen[p.Name+KeyExpAvg], seen[p.Name+KeyExpAvgSq], seen[p.Name+KeyStep] = true, true, true
		want, err := p.Tensor.Size()
		if err != nil {
			return fail(err)
		}
		step, err := scalarInt(s)
		if err != nil {
			return fail(fmt.Errorf("%s%s: %w", p.Name, KeyStep, err))
		}
		if step < 1 {
			return fail(fmt.Errorf("%s%s: step %d < 1", p.Name, KeyStep, step))
		}
		newState[i].step = step
		for j, src := range []*ts.Tensor{m, v} {
			got, err := src.Size()
			if err != nil {
				return fail(err)
			}
			if !slices.Equal(got, want) {
				return fail(fmt.Errorf("%s%s: shape %v, want %v", p.Name, []string{KeyExpAvg, KeyExpAvgSq}[j], got, want))
			}
			// to(param) with copy=true: a fresh tensor on the parameter's
			// device and dtype.
			dst, err := src.ToOther(p.Tensor, false, true, false)
			if err != nil {
				return fail(err)
			}
			if j == 0 {
				newState[i].expAvg = dst
			} else {
				newState[i].expAvgSq = dst
			}
		}
	}
	for _, k := range keys {
		if !seen[k] {
			return fail(fmt.Errorf("unknown key %q (no such parameter)", k))
		}
	}
	a.dropState()
	a.state = newState
	a.steps = steps
	return nil
}

// Close frees the optimizer state. The parameters are not touched.
func (a *AdamW) Close() error {
	a.dropState()
	a.closed = true
	return nil
}

func (a *AdamW) dropState() {
	for i := range a.state {
		if a.state[i].expAvg != nil {
			a.state[i].expAvg.MustDrop()
			a.state[i].expAvgSq.MustDrop()
		}
		if a.state[i].devStep != nil {
			a.state[i].devStep.MustDrop()
		}
		a.state[i] = paramState{}
	}
}

func scalarInt(t *ts.Tensor) (int64, error) {
	if n := t.Numel(); n != 1 {
		return 0, fmt.Errorf("want one element, have %d", n)
	}
	c, err := t.ToDtype(gotch.Double, false, false, false)
	if err != nil {
		return 0, err
	}
	defer c.MustDrop()
	f, err := c.Float64Value([]int64{})
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("step %v is not an integer", f)
	}
	return int64(f), nil
}

// scalarTensor returns a float32 0-dim tensor holding v on dev (gotch's
// factories cannot take an empty shape: a [1] tensor is squeezed).
func scalarTensor(v float64, dev gotch.Device) (*ts.Tensor, error) {
	s := ts.FloatScalar(v)
	defer runtime.KeepAlive(s)
	t, err := ts.Full([]int64{1}, s, gotch.Float, dev)
	if err != nil {
		return nil, err
	}
	return t.Squeeze(true)
}

// dropResult drops the extra handle an out= op returns (it shares the out
// tensor's storage) and passes on the op's error.
func dropResult(t *ts.Tensor, err error) error {
	if err != nil {
		return err
	}
	return t.Drop()
}

// recoverTorch turns a panic inside gotch into an error.
func recoverTorch(err *error, op string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("optim: %s: libtorch panic: %v", op, r)
	}
}
