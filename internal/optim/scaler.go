package optim

import (
	"fmt"
	"math"
	"runtime"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// ScalerOptions configures NewGradScaler. Start from DefaultScalerOptions();
// the defaults are torch.cuda.amp.GradScaler's.
type ScalerOptions struct {
	// Enabled switches loss scaling on (fp16 training). A disabled scaler
	// (fp32, bf16) is a no-op with scale 1 and ignores the other fields,
	// so ScalerOptions{} is a valid disabled scaler.
	Enabled bool
	// InitScale is the first loss scale: 65536 (2¹⁶). It must be finite,
	// > 0 and representable in float32.
	InitScale float64
	// GrowthFactor multiplies the scale after GrowthInterval consecutive
	// steps without inf/NaN gradients: 2. It must be finite and > 1.
	GrowthFactor float64
	// BackoffFactor multiplies the scale after a step with inf/NaN
	// gradients: 0.5. It must be in (0, 1).
	BackoffFactor float64
	// GrowthInterval is the number of consecutive finite steps before the
	// scale grows: 2000. It must be > 0.
	GrowthInterval int
}

// DefaultScalerOptions returns torch.cuda.amp.GradScaler's defaults,
// enabled: init_scale 2¹⁶, growth_factor 2, backoff_factor 0.5,
// growth_interval 2000.
func DefaultScalerOptions() ScalerOptions {
	return ScalerOptions{Enabled: true, InitScale: 65536, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 2000}
}

// Validate checks the ranges torch.cuda.amp.GradScaler asserts (and that
// InitScale is a usable float32 scale). A disabled scaler's fields are not
// checked.
func (o ScalerOptions) Validate() error {
	if !o.Enabled {
		return nil
	}
	switch {
	case !(o.InitScale > 0) || o.InitScale > math.MaxFloat32:
		return fmt.Errorf("optim: ScalerOptions.InitScale %v must be > 0 and a finite float32", o.InitScale)
	case !(o.GrowthFactor > 1) || math.IsInf(o.GrowthFactor, 0):
		return fmt.Errorf("optim: ScalerOptions.GrowthFactor %v must be finite and > 1", o.GrowthFactor)
	case !(o.BackoffFactor > 0 && o.BackoffFactor < 1):
		return fmt.Errorf("optim: ScalerOptions.BackoffFactor %v not in (0, 1)", o.BackoffFactor)
	case o.GrowthInterval <= 0:
		return fmt.Errorf("optim: ScalerOptions.GrowthInterval %d must be > 0", o.GrowthInterval)
	}
	return nil
}

// ScalerState is the part of a GradScaler that changes during training,
// for checkpoints (torch's state_dict "scale" and "_growth_tracker"). It
// marshals to JSON as {"scale": 65536, "growth_tracker": 0}.
type ScalerState struct {
	Scale         float64 `json:"scale"`
	GrowthTracker int     `json:"growth_tracker"`
}

// GradScaler is torch.cuda.amp.GradScaler: dynamic loss scaling for fp16
// mixed precision (see the package doc, "Loss scaling", for the step
// protocol). The scale and the growth tracker live on the host: Unscale
// reads the found-inf flag back once per step, as torch's scaler.step does,
// and Update then needs no device work. A GradScaler is not safe for
// concurrent use.
type GradScaler struct {
	opts     ScalerOptions
	scale    float64 // a float32 value, as torch's _scale tensor
	tracker  int     // consecutive finite steps since the last growth or backoff
	unscaled bool    // Unscale was called since the last Update
	found    bool    // what that Unscale found
}

// NewGradScaler returns a scaler with scale o.InitScale (1 when disabled).
func NewGradScaler(o ScalerOptions) (*GradScaler, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &GradScaler{opts: o, scale: 1}
	if o.Enabled {
		s.scale = float64(float32(o.InitScale))
	}
	return s, nil
}

// NewTrainingScaler returns a training run's loss scaler: enabled with
// DefaultScalerOptions for fp16 training, disabled (a no-op) otherwise.
// A non-nil st, a checkpoint's State, is restored (LoadState).
func NewTrainingScaler(fp16 bool, st *ScalerState) (*GradScaler, error) {
	o := ScalerOptions{}
	if fp16 {
		o = DefaultScalerOptions()
	}
	s, err := NewGradScaler(o)
	if err != nil {
		return nil, err
	}
	if st != nil {
		if err := s.LoadState(*st); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Enabled reports whether the scaler scales (ScalerOptions.Enabled).
func (s *GradScaler) Enabled() bool { return s.opts.Enabled }

// Options returns the options the scaler was built with.
func (s *GradScaler) Options() ScalerOptions { return s.opts }

// ScaleValue returns the current loss scale (1 when disabled), torch's
// get_scale().
func (s *GradScaler) ScaleValue() float64 { return s.scale }

// Scale returns loss × scale as a new tensor the caller owns (and drops
// after Backward); loss is not dropped. The product has loss's dtype, as
// torch's outputs * scale with a float32 scale and a float32 loss. A
// disabled scaler returns a shallow clone of loss (a new handle to the same
// tensor, so backward through it is backward through loss).
func (s *GradScaler) Scale(loss *ts.Tensor) (out *ts.Tensor, err error) {
	if loss == nil {
		return nil, fmt.Errorf("optim: GradScaler.Scale: loss is nil")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "GradScaler.Scale")
	if !s.opts.Enabled {
		out, err = loss.ShallowClone()
	} else {
		sc := ts.FloatScalar(s.scale)
		out, err = loss.MulScalar(sc, false)
		runtime.KeepAlive(sc)
	}
	if err != nil {
		return nil, fmt.Errorf("optim: GradScaler.Scale: %w", err)
	}
	return out, nil
}

// Unscale divides every defined gradient of params by the scale in place
// (gᵢ ← gᵢ · (1/scale), the reciprocal rounded to float32 as torch's
// inv_scale) and reports whether any gradient holds a NaN or ±Inf, torch's
// unscale_ (_amp_foreach_non_finite_check_and_unscale_). The check is
// isfinite(gᵢ).all() per gradient, reduced on the device and read back
// once: the one device→host sync of a scaled step (torch's step syncs on
// found_inf too). Gradients are multiplied even when one is non-finite (the
// step is then skipped and they are zeroed). Parameters without a gradient
// are skipped. float16 gradients are an error, as in torch: fp16 training
// keeps float32 master weights, so gradients are float32.
//
// Call Unscale at most once between Updates (before ClipGradNorm, so that
// the clipping threshold applies to the true gradients); a second call is an
// error. A disabled scaler reports false and touches nothing.
func (s *GradScaler) Unscale(params []Param) (foundInf bool, err error) {
	if !s.opts.Enabled {
		return false, nil
	}
	if s.unscaled {
		return false, fmt.Errorf("optim: GradScaler.Unscale: already called since the last Update")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer recoverTorch(&err, "GradScaler.Unscale")
	prev, err := setGradEnabled(false)
	if err != nil {
		return false, fmt.Errorf("optim: GradScaler.Unscale: %w", err)
	}
	defer setGradEnabled(prev)

	var grads, finite []*ts.Tensor
	defer func() {
		for _, t := range finite {
			t.MustDrop()
		}
		for _, t := range grads {
			t.MustDrop()
		}
	}()
	for _, p := range params {
		g, err := p.Tensor.Grad(false)
		if err != nil {
			return false, fmt.Errorf("optim: GradScaler.Unscale: %s: %w", p.Name, err)
		}
		if !g.MustDefined() {
			g.MustDrop()
			continue
		}
		grads = append(grads, g)
		if g.DType() == gotch.Half {
			return false, fmt.Errorf("optim: GradScaler.Unscale: %s: float16 gradient (fp16 training needs float32 parameters)", p.Name)
		}
	}
	s.unscaled, s.found = true, false
	if len(grads) == 0 {
		return false, nil
	}
	inv := ts.FloatScalar(float64(float32(1 / s.scale)))
	defer runtime.KeepAlive(inv)
	for _, g := range grads {
		f, err := g.Isfinite(false)
		if err != nil {
			return false, fmt.Errorf("optim: GradScaler.Unscale: %w", err)
		}
		all, err := f.All(true)
		if err != nil {
			return false, fmt.Errorf("optim: GradScaler.Unscale: %w", err)
		}
		finite = append(finite, all)
		if err := dropResult(g.MulScalarOut(g, inv, false)); err != nil {
			return false, fmt.Errorf("optim: GradScaler.Unscale: %w", err)
		}
	}
	stacked, err := ts.Stack(finite, 0)
	if err != nil {
		return false, fmt.Errorf("optim: GradScaler.Unscale: %w", err)
	}
	allFinite, err := stacked.All(true)
	if err != nil {
		return false, fmt.Errorf("optim: GradScaler.Unscale: %w", err)
	}
	defer allFinite.MustDrop()
	ok, err := allFinite.Int64Value([]int64{})
	if err != nil {
		return false, fmt.Errorf("optim: GradScaler.Unscale: read found-inf: %w", err)
	}
	s.found = ok == 0
	return s.found, nil
}

// Update adjusts the scale after a step, torch's update() (_amp_update_scale_):
// after a step with non-finite gradients the scale is multiplied by
// BackoffFactor and the growth tracker reset; otherwise the tracker counts
// the step, and on the GrowthInterval-th consecutive finite step the scale
// is multiplied by GrowthFactor (unless that overflows float32) and the
// tracker reset. Pass the foundInf that Unscale (or Step) returned. A
// disabled scaler does nothing.
func (s *GradScaler) Update(foundInf bool) {
	s.unscaled, s.found = false, false
	if !s.opts.Enabled {
		return
	}
	if foundInf {
		s.scale = float64(float32(s.scale * s.opts.BackoffFactor))
		s.tracker = 0
		return
	}
	s.tracker++
	if s.tracker == s.opts.GrowthInterval {
		if g := float64(float32(s.scale * s.opts.GrowthFactor)); !math.IsInf(g, 0) {
			s.scale = g
		}
		s.tracker = 0
	}
}

// Step is torch's scaler.step(optimizer) followed by scaler.update(): it
// unscales the gradients of params (unless Unscale was already called
// since the last Update: its result is used), runs step (clipping and the optimizer's update)
// only if every gradient is finite, then updates the scale. It returns
// whether step ran; a skipped step is not an error (the caller still zeroes
// the gradients, and HF Trainer then also skips the LR scheduler's step).
// With a disabled scaler step always runs.
func (s *GradScaler) Step(params []Param, step func() error) (stepped bool, err error) {
	if step == nil {
		return false, fmt.Errorf("optim: GradScaler.Step: step is nil")
	}
	foundInf := s.found
	if !s.unscaled {
		if foundInf, err = s.Unscale(params); err != nil {
			return false, err
		}
	}
	if !foundInf {
		if err := step(); err != nil {
			s.unscaled, s.found = false, false
			return false, err
		}
	}
	s.Update(foundInf)
	return !foundInf, nil
}

// State returns the scale and growth tracker for a checkpoint (scale 1 and
// tracker 0 for a disabled scaler).
func (s *GradScaler) State() ScalerState {
	return ScalerState{Scale: s.scale, GrowthTracker: s.tracker}
}

// LoadState restores a State, so that a resumed run scales as the
// uninterrupted one would. The scale must be a positive finite float32 and
// the tracker in [0, GrowthInterval). A disabled scaler ignores st (as
// torch's load_state_dict does), so a checkpoint of an fp16 run can resume
// at another precision.
func (s *GradScaler) LoadState(st ScalerState) error {
	if !s.opts.Enabled {
		return nil
	}
	if !(st.Scale > 0) || st.Scale > math.MaxFloat32 {
		return fmt.Errorf("optim: GradScaler.LoadState: scale %v must be > 0 and a finite float32", st.Scale)
	}
	if st.GrowthTracker < 0 || st.GrowthTracker >= s.opts.GrowthInterval {
		return fmt.Errorf("optim: GradScaler.LoadState: growth tracker %d not in [0, %d)", st.GrowthTracker, s.opts.GrowthInterval)
	}
	s.scale = float64(float32(st.Scale))
	s.tracker = st.GrowthTracker
	s.unscaled, s.found = false, false
	return nil
}

// Update is one optimizer update after backward, the step every trainer
// here takes: through s (fp16's scaler unscales the gradients and skips
// the rest when one overflowed; a disabled one always runs it), clip the
// gradients to maxNorm on the device (ClipGradNormDevice; maxNorm 0: no
// clipping), AdamW step at lr, then zero the gradients (also after a
// skipped step). norm is the total gradient norm before clipping as a
// 0-dim device tensor the caller drops, nil without clipping or when the
// step was skipped; nothing is read back except fp16's found-inf flag.
func (a *AdamW) Update(s *GradScaler, maxNorm, lr float64) (norm *ts.Tensor, stepped bool, err error) {
	stepped, err = s.Step(a.params, func() (err error) {
		if maxNorm > 0 {
			if norm, err = ClipGradNormDevice(a.params, maxNorm); err != nil {
				return err
			}
		}
		return a.Step(lr)
	})
	if err == nil {
		err = a.ZeroGrad()
	}
	if err != nil {
		if norm != nil {
			norm.MustDrop()
		}
		return nil, false, err
	}
	return norm, stepped, nil
}
