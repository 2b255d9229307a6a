package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func TestScalerOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*ScalerOptions)
		want string
	}{
		{"defaults", func(*ScalerOptions) {}, ""},
		{"disabled zero value", func(o *ScalerOptions) { *o = ScalerOptions{} }, ""},
		{"zero init scale", func(o *ScalerOptions) { o.InitScale = 0 }, "InitScale"},
		{"NaN init scale", func(o *ScalerOptions) { o.InitScale = math.NaN() }, "InitScale"},
		{"init scale beyond float32", func(o *ScalerOptions) { o.InitScale = 1e39 }, "InitScale"},
		{"growth 1", func(o *ScalerOptions) { o.GrowthFactor = 1 }, "GrowthFactor"},
		{"growth inf", func(o *ScalerOptions) { o.GrowthFactor = math.Inf(1) }, "GrowthFactor"},
		{"backoff 1", func(o *ScalerOptions) { o.BackoffFactor = 1 }, "BackoffFactor"},
		{"backoff 0", func(o *ScalerOptions) { o.BackoffFactor = 0 }, "BackoffFactor"},
		{"interval 0", func(o *ScalerOptions) { o.GrowthInterval = 0 }, "GrowthInterval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultScalerOptions()
			tc.edit(&o)
			_, err := NewGradScaler(o)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, "ScalerOptions."+tc.want)
		})
	}
	o := DefaultScalerOptions()
	assert.Equal(t, ScalerOptions{Enabled: true, InitScale: 65536, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 2000}, o)
}

// grads returns the gradients of params as float32 slices (nil for none).
func grads(t *testing.T, params []Param) [][]float32 {
	t.Helper()
	out := make([][]float32, len(params))
	for i, p := range params {
		g, err := p.Tensor.Grad(false)
		require.NoError(t, err)
		if g.MustDefined() {
			out[i] = values(t, g)
		}
		g.MustDrop()
	}
	return out
}

// scaledBackward runs backward of s.Scale(Σ a·ga + Σ b·gb), so that a's
// and b's gradients are ga·scale and gb·scale.
func scaledBackward(t *testing.T, s *GradScaler, a *ts.Tensor, ga []float32, b *ts.Tensor, gb []float32) (loss, scaled float64) {
	t.Helper()
	ca, cb := ts.MustOfSlice(ga), ts.MustOfSlice(gb)
	pa, err := a.Mul(ca, false)
	require.NoError(t, err)
	pb, err := b.Mul(cb, false)
	require.NoError(t, err)
	sa, err := pa.Sum(gotch.Float, false)
	require.NoError(t, err)
	sb, err := pb.Sum(gotch.Float, false)
	require.NoError(t, err)
	l, err := sa.Add(sb, false)
	require.NoError(t, err)
	sl, err := s.Scale(l)
	require.NoError(t, err)
	require.NoError(t, sl.Backward())
	loss, scaled = l.MustFloat64Value([]int64{}), sl.MustFloat64Value([]int64{})
	for _, x := range []*ts.Tensor{ca, cb, pa, pb, sa, sb, l, sl} {
		x.MustDrop()
	}
	return loss, scaled
}

// TestGradScalerRoundTrip: Scale multiplies the loss, so backward gives
// scale × the gradients, and Unscale brings back exactly the unscaled
// gradients (scale a power of two), skipping a parameter without one.
func TestGradScalerRoundTrip(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, init := range []float64{65536, 3} { // 3: 1/3 rounds, so compare within float32's precision
		s, err := NewGradScaler(ScalerOptions{Enabled: true, InitScale: init, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 2000})
		require.NoError(t, err)
		params := clipParams(t)
		ga, gb := []float32{0.25, -1.5e-3}, []float32{7}
		loss, scaled := scaledBackward(t, s, params[0].Tensor, ga, params[1].Tensor, gb)
		assert.InDelta(t, loss*init, scaled, 1e-9*init)
		g := grads(t, params)
		assert.InDeltaSlice(t, []float32{0.25 * float32(init), -1.5e-3 * float32(init)}, g[0], 1e-6*init)
		assert.Nil(t, g[2], "no gradient")

		before := len(ts.ExistingTensors)
		found, err := s.Unscale(params)
		require.NoError(t, err)
		assert.Equal(t, before, len(ts.ExistingTensors), "Unscale drops what it creates")
		assert.False(t, found)
		g = grads(t, params)
		if init == 65536 {
			assert.Equal(t, [][]float32{ga, gb, nil}, g)
		} else {
			assert.InDeltaSlice(t, ga, g[0], 1e-6)
			assert.InDeltaSlice(t, gb, g[1], 1e-6)
		}
		_, err = s.Unscale(params)
		assert.ErrorContains(t, err, "already called since the last Update")
		s.Update(found)
		assert.Equal(t, ScalerState{Scale: init, GrowthTracker: 1}, s.State())
	}
}

// TestGradScalerFoundInf: a NaN, +Inf or −Inf in any one gradient is found,
// Update halves the scale and resets the growth tracker.
func TestGradScalerFoundInf(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name   string
		ga, gb []float32
		found  bool
	}{
		{"finite", []float32{1, 2}, []float32{3}, false},
		{"NaN in the first", []float32{1, nan}, []float32{3}, true},
		{"+Inf in the last", []float32{1, 2}, []float32{inf}, true},
		{"-Inf", []float32{-inf, 2}, []float32{3}, true},
		{"+Inf and -Inf", []float32{inf, 2}, []float32{-inf}, true},
		{"huge but finite", []float32{3e38 / 65536, 3e38 / 65536}, []float32{3e38 / 65536}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			o := DefaultScalerOptions()
			s, err := NewGradScaler(o)
			require.NoError(t, err)
			params := clipParams(t)
			scaledBackward(t, s, params[0].Tensor, tc.ga, params[1].Tensor, tc.gb)
			found, err := s.Unscale(params)
			require.NoError(t, err)
			assert.Equal(t, tc.found, found)
			s.Update(found)
			want := ScalerState{Scale: 65536, GrowthTracker: 1}
			if tc.found {
				want = ScalerState{Scale: 32768}
			}
			assert.Equal(t, want, s.State())
		})
	}
}

// TestGradScalerUpdate follows the scale and the growth tracker through a
// sequence of steps (true = inf found), as torch's _amp_update_scale_.
func TestGradScalerUpdate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		init  float64
		steps []bool
		want  ScalerState
	}{
		{"counts finite steps", 8, []bool{false, false}, ScalerState{8, 2}},
		{"grows on the third", 8, []bool{false, false, false}, ScalerState{16, 0}},
		{"grows every third", 8, []bool{false, false, false, false, false, false, false}, ScalerState{32, 1}},
		{"inf resets the count", 8, []bool{false, false, true, false, false}, ScalerState{4, 2}},
		{"backs off twice", 8, []bool{true, true}, ScalerState{2, 0}},
		{"no growth past float32", 0x1p127, []bool{false, false, false}, ScalerState{0x1p127, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewGradScaler(ScalerOptions{Enabled: true, InitScale: tc.init, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 3})
			require.NoError(t, err)
			for _, inf := range tc.steps {
				s.Update(inf)
			}
			assert.Equal(t, tc.want, s.State())
			assert.Equal(t, tc.want.Scale, s.ScaleValue())
		})
	}
}

// TestGradScalerState: the state survives JSON, a loaded scaler continues
// as the original, and bad states are errors.
func TestGradScalerState(t *testing.T) {
	o := ScalerOptions{Enabled: true, InitScale: 1024, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 4}
	a, err := NewGradScaler(o)
	require.NoError(t, err)
	for _, inf := range []bool{false, true, false, false, false} {
		a.Update(inf)
	}
	js, err := json.Marshal(a.State())
	require.NoError(t, err)
	assert.JSONEq(t, `{"scale": 512, "growth_tracker": 3}`, string(js))
	var st ScalerState
	require.NoError(t, json.Unmarshal(js, &st))
	b, err := NewGradScaler(o)
	require.NoError(t, err)
	require.NoError(t, b.LoadState(st))
	for _, inf := range []bool{false, false, true, false} {
		a.Update(inf)
		b.Update(inf)
		assert.Equal(t, a.State(), b.State())
	}
	for _, tc := range []struct {
		name string
		st   ScalerState
		want string
	}{
		{"zero scale", ScalerState{0, 0}, "scale 0"},
		{"inf scale", ScalerState{math.Inf(1), 0}, "scale +Inf"},
		{"tracker at interval", ScalerState{1, 4}, "growth tracker 4 not in [0, 4)"},
		{"negative tracker", ScalerState{1, -1}, "growth tracker -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, b.LoadState(tc.st), tc.want)
		})
	}
	off, err := NewGradScaler(ScalerOptions{})
	require.NoError(t, err)
	require.NoError(t, off.LoadState(ScalerState{Scale: 512, GrowthTracker: 3}), "a disabled scaler ignores state")
	assert.Equal(t, ScalerState{Scale: 1}, off.State())
}

// TestGradScalerDisabled: a disabled scaler has scale 1 and changes
// neither the loss nor the gradients.
func TestGradScalerDisabled(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := DefaultScalerOptions()
	o.Enabled = false
	s, err := NewGradScaler(o)
	require.NoError(t, err)
	assert.False(t, s.Enabled())
	assert.Equal(t, 1.0, s.ScaleValue())
	params := clipParams(t)
	inf := float32(math.Inf(1))
	loss, scaled := scaledBackward(t, s, params[0].Tensor, []float32{1, 2}, params[1].Tensor, []float32{inf})
	assert.Equal(t, loss, scaled)
	found, err := s.Unscale(params)
	require.NoError(t, err)
	assert.False(t, found, "a disabled scaler checks nothing")
	assert.Equal(t, [][]float32{{1, 2}, {inf}, nil}, grads(t, params))
	s.Update(true)
	assert.Equal(t, ScalerState{Scale: 1}, s.State())
	_, err = s.Scale(nil)
	assert.ErrorContains(t, err, "loss is nil")
}

// quadratic is a tiny model: loss = Σ (w·c − d)², w (4,).
type quadratic struct {
	w, c, d *ts.Tensor
}

func newQuadratic(t *testing.T) *quadratic {
	q := &quadratic{
		w: newLeaf(t, []float64{0.5, -1, 2, 0.1}, []int64{4}),
		c: ts.MustOfSlice([]float32{1.5, 0.3, -2, 4}),
		d: ts.MustOfSlice([]float32{1, 2, 3, -1}),
	}
	t.Cleanup(func() { q.w.MustDrop(); q.c.MustDrop(); q.d.MustDrop() })
	return q
}

func (q *quadratic) loss(t *testing.T) *ts.Tensor {
	t.Helper()
	wc, err := q.w.Mul(q.c, false)
	require.NoError(t, err)
	r, err := wc.Sub(q.d, true)
	require.NoError(t, err)
	sq, err := r.Square(true)
	require.NoError(t, err)
	l, err := sq.Sum(gotch.Float, true)
	require.NoError(t, err)
	return l
}

// TestGradScalerLoopMatchesUnscaled: AdamW with clipping, trained through
// the scaler protocol (Scale, Backward, Step with Unscale, ZeroGrad), gives
// the parameters of the same loop without a scaler while nothing
// overflows; an injected overflow skips exactly that step.
func TestGradScalerLoopMatchesUnscaled(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	plain, scaled := newQuadratic(t), newQuadratic(t)
	pp, ps := []Param{{"w", plain.w}}, []Param{{"w", scaled.w}}
	optP, err := NewAdamW(pp, DefaultAdamWOptions())
	require.NoError(t, err)
	defer optP.Close()
	optS, err := NewAdamW(ps, DefaultAdamWOptions())
	require.NoError(t, err)
	defer optS.Close()
	sc, err := NewGradScaler(ScalerOptions{Enabled: true, InitScale: 65536, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 5})
	require.NoError(t, err)
	const steps, lr = 20, 0.05
	var before int
	for i := 0; i < steps; i++ {
		l := plain.loss(t)
		require.NoError(t, l.Backward())
		l.MustDrop()
		want := grads(t, pp)[0]
		_, err := ClipGradNorm(pp, 1)
		require.NoError(t, err)
		require.NoError(t, optP.Step(lr))
		require.NoError(t, optP.ZeroGrad())

		if i == 1 {
			before = len(ts.ExistingTensors)
		}
		l = scaled.loss(t)
		sl, err := sc.Scale(l)
		require.NoError(t, err)
		require.NoError(t, sl.Backward())
		sl.MustDrop()
		l.MustDrop()
		stepped, err := sc.Step(ps, func() error {
			// AdamW and clipping nearly hide a gradient scale: check it here
			assert.InDeltaSlice(t, want, grads(t, ps)[0], 1e-6, "step %d: unscaled gradients", i)
			if _, err := ClipGradNorm(ps, 1); err != nil {
				return err
			}
			return optS.Step(lr)
		})
		require.NoError(t, err)
		assert.True(t, stepped)
		require.NoError(t, optS.ZeroGrad())
	}
	assert.Equal(t, before, len(ts.ExistingTensors), "the scaled step leaks nothing")
	assert.InDeltaSlice(t, values(t, plain.w), values(t, scaled.w), 1e-6)
	assert.Equal(t, ScalerState{Scale: 65536 * 16, GrowthTracker: 0}, sc.State(), "grew every 5 steps")

	// An overflow: the step is skipped (parameters and AdamW's count stay),
	// the scale backs off.
	w := values(t, scaled.w)
	sc2, err := NewGradScaler(ScalerOptions{Enabled: true, InitScale: 0x1p127, GrowthFactor: 2, BackoffFactor: 0.5, GrowthInterval: 5})
	require.NoError(t, err)
	l := scaled.loss(t)
	four := ts.FloatScalar(4) // makes loss × 2¹²⁷ × 4 overflow float32
	big, err := l.MulScalar(four, true)
	runtime.KeepAlive(four)
	require.NoError(t, err)
	sl, err := sc2.Scale(big)
	require.NoError(t, err)
	require.NoError(t, sl.Backward())
	sl.MustDrop()
	big.MustDrop()
	found, err := sc2.Unscale(ps)
	require.NoError(t, err)
	require.True(t, found)
	ran := false
	stepped, err := sc2.Step(ps, func() error { ran = true; return nil })
	require.NoError(t, err)
	assert.False(t, stepped)
	assert.False(t, ran, "Step uses the earlier Unscale's result")
	require.NoError(t, optS.ZeroGrad())
	assert.Equal(t, w, values(t, scaled.w))
	assert.Equal(t, int64(steps), optS.Steps())
	assert.Equal(t, ScalerState{Scale: 0x1p126}, sc2.State())
}

// The scale halves after an overflow and doubles after GrowthInterval
// finite steps in a row.
func ExampleGradScaler_Update() {
	o := DefaultScalerOptions()
	o.GrowthInterval = 2
	s, _ := NewGradScaler(o)
	for _, foundInf := range []bool{true, false, false, false} {
		s.Update(foundInf)
		fmt.Println(s.ScaleValue(), s.State().GrowthTracker)
	}
	// Output:
	// 32768 0
	// 32768 1
	// 65536 0
	// 65536 1
}

// TestNewTrainingScaler: enabled with torch's defaults for fp16, a no-op
// otherwise, and a checkpoint's state is restored (or refused when bad).
func TestNewTrainingScaler(t *testing.T) {
	s, err := NewTrainingScaler(true, nil)
	require.NoError(t, err)
	assert.True(t, s.Enabled())
	assert.Equal(t, DefaultScalerOptions(), s.Options())
	s, err = NewTrainingScaler(true, &ScalerState{Scale: 1024, GrowthTracker: 7})
	require.NoError(t, err)
	assert.Equal(t, ScalerState{Scale: 1024, GrowthTracker: 7}, s.State())
	_, err = NewTrainingScaler(true, &ScalerState{Scale: -1})
	assert.ErrorContains(t, err, "scale -1")
	s, err = NewTrainingScaler(false, &ScalerState{Scale: 1024})
	require.NoError(t, err)
	assert.False(t, s.Enabled())
	assert.Equal(t, 1.0, s.ScaleValue())
}

// TestAdamWUpdate: Update clips on the device (the returned norm is the
// norm before clipping), steps, zeroes the gradients; without clipping it
// returns no norm; with an overflowing fp16 scaler it skips the step.
func TestAdamWUpdate(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	params := clipParams(t)
	a, b := params[0].Tensor, params[1].Tensor
	opt, err := NewAdamW(params, DefaultAdamWOptions())
	require.NoError(t, err)
	defer opt.Close()
	off, err := NewTrainingScaler(false, nil)
	require.NoError(t, err)

	before := values(t, a)
	setGrads(t, a, []float32{3, 0}, b, []float32{4}) // norm 5
	norm, stepped, err := opt.Update(off, 1, 1e-2)
	require.NoError(t, err)
	require.NotNil(t, norm)
	assert.True(t, stepped)
	assert.InDelta(t, 5.0, norm.MustFloat64Value([]int64{}), 1e-6)
	norm.MustDrop()
	assert.NotEqual(t, before, values(t, a), "stepped")
	g, err := a.Grad(false)
	require.NoError(t, err)
	assert.Equal(t, []float32{0, 0}, values(t, g), "zeroed")
	g.MustDrop()

	setGrads(t, a, []float32{3, 0}, b, []float32{4})
	norm, stepped, err = opt.Update(off, 0, 1e-2)
	require.NoError(t, err)
	assert.Nil(t, norm, "no clipping, no norm")
	assert.True(t, stepped)

	on, err := NewTrainingScaler(true, nil)
	require.NoError(t, err)
	before = values(t, a)
	setGrads(t, a, []float32{float32(math.Inf(1)), 0}, b, []float32{4})
	norm, stepped, err = opt.Update(on, 1, 1e-2)
	require.NoError(t, err)
	assert.False(t, stepped)
	assert.Nil(t, norm)
	assert.Equal(t, before, values(t, a), "skipped")
	assert.Equal(t, 32768.0, on.ScaleValue())
}
