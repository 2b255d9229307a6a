package optim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"
)

// parity is testdata/adamw_parity.json, written by gen_adamw.py.
type parity struct {
	TorchVersion string                 `json:"torch_version"`
	Steps        int                    `json:"steps"`
	Warmup       int                    `json:"warmup"`
	Total        int                    `json:"total"`
	BaseLR       float64                `json:"base_lr"`
	MaxNorm      float64                `json:"max_norm"`
	Betas        [2]float64             `json:"betas"`
	Eps          float64                `json:"eps"`
	WeightDecay  float64                `json:"weight_decay"`
	Names        []string               `json:"names"`
	Shapes       map[string][]int64     `json:"shapes"`
	NoDecay      map[string]bool        `json:"no_decay"`
	Init         map[string][]float64   `json:"init"`
	Grads        []map[string][]float64 `json:"grads"`
	LRs          []float64              `json:"lrs"`
	Norms        []float64              `json:"norms"`
	Params       []map[string][]float64 `json:"params"`
	Schedules    []struct {
		BaseLR float64   `json:"base_lr"`
		Warmup int       `json:"warmup"`
		Total  int       `json:"total"`
		LRs    []float64 `json:"lrs"`
	} `json:"schedules"`
}

func loadParity(t *testing.T) *parity {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "adamw_parity.json"))
	require.NoError(t, err)
	var p parity
	require.NoError(t, json.Unmarshal(raw, &p))
	require.Equal(t, p.Steps, len(p.Params))
	return &p
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// newLeaf returns a float32 leaf tensor that requires grad.
func newLeaf(t testing.TB, data []float64, shape []int64) *ts.Tensor {
	t.Helper()
	x, err := ts.OfSlice(f32s(data))
	require.NoError(t, err)
	x, err = x.View(shape, true)
	require.NoError(t, err)
	x, err = x.SetRequiresGrad(true, true)
	require.NoError(t, err)
	return x
}

func values(t testing.TB, x *ts.Tensor) []float32 {
	t.Helper()
	out := make([]float32, x.Numel())
	c, err := x.Detach(false)
	require.NoError(t, err)
	defer c.MustDrop()
	require.NoError(t, c.CopyData(out, x.Numel()))
	return out
}

// fixture holds parameters built from the parity file.
type fixture struct {
	// deviceClip makes run clip with ClipGradNormDevice instead of
	// ClipGradNorm.
	deviceClip bool

	p      *parity
	params []Param
	byName map[string]*ts.Tensor
	grads  []map[string]*ts.Tensor // constant G_t tensors
}

func newFixture(t testing.TB, p *parity) *fixture {
	f := &fixture{p: p, byName: map[string]*ts.Tensor{}}
	for _, n := range p.Names {
		x := newLeaf(t, p.Init[n], p.Shapes[n])
		f.params = append(f.params, Param{Name: n, Tensor: x})
		f.byName[n] = x
	}
	for _, gm := range p.Grads {
		m := map[string]*ts.Tensor{}
		for n, g := range gm {
			x, err := ts.OfSlice(f32s(g))
			require.NoError(t, err)
			m[n], err = x.View(p.Shapes[n], true)
			require.NoError(t, err)
		}
		f.grads = append(f.grads, m)
	}
	return f
}

func (f *fixture) drop() {
	for _, p := range f.params {
		p.Tensor.MustDrop()
	}
	for _, m := range f.grads {
		for _, g := range m {
			g.MustDrop()
		}
	}
}

// backward sets grad p = G_t through loss = Σ sum(p·G_t) (exact).
func (f *fixture) backward(t testing.TB, step int) {
	t.Helper()
	var loss *ts.Tensor
	var keep []*ts.Tensor
	for _, n := range f.p.Names {
		g, ok := f.grads[step][n]
		if !ok {
			continue
		}
		prod, err := f.byName[n].Mul(g, false)
		require.NoError(t, err)
		s, err := prod.Sum(gotch.Float, false)
		require.NoError(t, err)
		keep = append(keep, prod, s)
		if loss == nil {
			loss = s
		} else {
			loss, err = loss.Add(s, false)
			require.NoError(t, err)
			keep = append(keep, loss)
		}
	}
	require.NoError(t, loss.Backward())
	for _, k := range keep {
		k.MustDrop()
	}
}

// run does steps [from, to) of the HF loop: zero_grad, backward, clip, step.
func (f *fixture) run(t testing.TB, opt *AdamW, sched LinearSchedule, from, to int, check bool) {
	t.Helper()
	for s := from; s < to; s++ {
		require.NoError(t, opt.ZeroGrad())
		f.backward(t, s)
		var norm float64
		if f.deviceClip {
			nt, err := ClipGradNormDevice(f.params, f.p.MaxNorm)
			require.NoError(t, err)
			if check {
				norm, err = nt.Float64Value([]int64{})
				require.NoError(t, err)
			}
			nt.MustDrop()
		} else {
			var err error
			norm, err = ClipGradNorm(f.params, f.p.MaxNorm)
			require.NoError(t, err)
		}
		lr := sched.LR(s)
		require.NoError(t, opt.Step(lr))
		if !check {
			continue
		}
		assert.InDelta(t, f.p.Norms[s], norm, 1e-6*math.Max(1, f.p.Norms[s]), "norm at step %d", s)
		assert.InDelta(t, f.p.LRs[s], lr, 1e-15, "lr at step %d", s)
		for _, n := range f.p.Names {
			want := f.p.Params[s][n]
			got := values(t, f.byName[n])
			require.Len(t, got, len(want))
			for i := range want {
				if !assert.InDelta(t, want[i], float64(got[i]), 1e-6, "%s[%d] after step %d", n, i, s) {
					return
				}
			}
		}
	}
}

func parityOptions(p *parity) AdamWOptions {
	return AdamWOptions{Beta1: p.Betas[0], Beta2: p.Betas[1], Eps: p.Eps, WeightDecay: p.WeightDecay}
}

// cpuFused reports whether at::_fused_adamw_ has a CPU kernel (torch ≥ 2.4).
func cpuFused() bool {
	maj, min, _ := bbshim.TorchVersion()
	return bbshim.HasFusedAdamW() && (maj > 2 || min >= 4)
}

func TestAdamWParityWithTorch(t *testing.T) {
	impls := []string{"", ImplSingleTensor, ImplForeach, ImplFused}
	for _, impl := range impls {
		for _, deviceClip := range []bool{false, true} {
			t.Run(fmt.Sprintf("impl=%q/deviceClip=%v", impl, deviceClip), func(t *testing.T) {
				if impl == ImplFused && !cpuFused() {
					t.Skip("no CPU at::_fused_adamw_ in this libtorch (needs >= 2.4)")
				}
				testAdamWParity(t, impl, deviceClip)
			})
		}
	}
}

func testAdamWParity(t *testing.T, impl string, deviceClip bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := loadParity(t)
	f := newFixture(t, p)
	f.deviceClip = deviceClip
	defer f.drop()
	o := parityOptions(p)
	o.Impl = impl
	opt, err := NewAdamW(f.params, o)
	require.NoError(t, err)
	defer opt.Close()
	want := impl
	if impl == "" {
		want = ImplForeach // CPU parameters
	}
	assert.Equal(t, want, opt.Implementation())
	for _, n := range p.Names {
		d, ok := opt.Decays(n)
		require.True(t, ok)
		assert.Equal(t, !p.NoDecay[n], d, n)
	}
	sched := LinearSchedule{BaseLR: p.BaseLR, Warmup: p.Warmup, Total: p.Total}
	f.run(t, opt, sched, 0, p.Steps, true)
	assert.Equal(t, int64(p.Steps), opt.Steps())
	// "unused.weight" never had a gradient: no state, value untouched.
	st, _, err := opt.StateDict()
	require.NoError(t, err)
	defer dropAll(st)
	assert.NotContains(t, st, "unused.weight"+KeyExpAvg)
	assert.Contains(t, st, "encoder.dense.weight"+KeyExpAvg)
}

func dropAll(m map[string]*ts.Tensor) {
	for _, t := range m {
		t.MustDrop()
	}
}

func TestAdamWResumeIsBitIdentical(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := loadParity(t)
	sched := LinearSchedule{BaseLR: p.BaseLR, Warmup: p.Warmup, Total: p.Total}

	// Uninterrupted run.
	a := newFixture(t, p)
	defer a.drop()
	optA, err := NewAdamW(a.params, parityOptions(p))
	require.NoError(t, err)
	defer optA.Close()
	a.run(t, optA, sched, 0, p.Steps, false)

	// Interrupted at step 9: state out, a fresh optimizer and fresh
	// parameter tensors (copied values) in, then the remaining steps.
	b := newFixture(t, p)
	defer b.drop()
	optB, err := NewAdamW(b.params, parityOptions(p))
	require.NoError(t, err)
	b.run(t, optB, sched, 0, 9, false)
	state, steps, err := optB.StateDict()
	require.NoError(t, err)
	require.NoError(t, optB.Close())
	assert.Equal(t, int64(9), steps)

	c := newFixture(t, p)
	defer c.drop()
	for _, n := range p.Names {
		v := values(t, b.byName[n])
		f64 := make([]float64, len(v))
		for i := range v {
			f64[i] = float64(v[i])
		}
		x := newLeaf(t, f64, p.Shapes[n])
		old := c.byName[n]
		c.byName[n] = x
		for i := range c.params {
			if c.params[i].Name == n {
				c.params[i].Tensor = x
			}
		}
		old.MustDrop()
	}
	optC, err := NewAdamW(c.params, parityOptions(p))
	require.NoError(t, err)
	defer optC.Close()
	require.NoError(t, optC.LoadStateDict(state, steps))
	dropAll(state)
	assert.Equal(t, int64(9), optC.Steps())
	c.run(t, optC, sched, 9, p.Steps, false)

	for _, n := range p.Names {
		assert.Equal(t, values(t, a.byName[n]), values(t, c.byName[n]), "%s differs after resume", n)
	}
}

func TestLoadStateDictErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := loadParity(t)
	f := newFixture(t, p)
	defer f.drop()
	opt, err := NewAdamW(f.params, parityOptions(p))
	require.NoError(t, err)
	defer opt.Close()
	f.run(t, opt, LinearSchedule{BaseLR: 0.01, Total: 10}, 0, 2, false)
	good, steps, err := opt.StateDict()
	require.NoError(t, err)
	defer dropAll(good)

	bad := ts.MustZeros([]int64{7}, gotch.Float, gotch.CPU)
	defer bad.MustDrop()
	with := func(k string, v *ts.Tensor) map[string]*ts.Tensor {
		m := map[string]*ts.Tensor{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name  string
		state map[string]*ts.Tensor
		steps int64
		msg   string
	}{
		{"unknown key", with("nope.weight.exp_avg", bad), steps, `unknown key "nope.weight.exp_avg"`},
		{"wrong shape", with("encoder.dense.weight.exp_avg", bad), steps, "shape [7], want [4 3]"},
		{"missing half", with("encoder.dense.bias.exp_avg_sq", nil), steps, "together"},
		{"negative steps", good, -1, "negative step count"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			err := opt.LoadStateDict(tc.state, tc.steps)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	// The failed loads left the state as it was.
	after, s2, err := opt.StateDict()
	require.NoError(t, err)
	defer dropAll(after)
	assert.Equal(t, steps, s2)
	for k, v := range good {
		if v.DType() == gotch.Int64 {
			a, err := scalarInt(v)
			require.NoError(t, err)
			b, err := scalarInt(after[k])
			require.NoError(t, err)
			assert.Equal(t, a, b, k)
			continue
		}
		assert.Equal(t, values(t, v), values(t, after[k]), k)
	}
}

func TestAdamWOptionsValidate(t *testing.T) {
	ok := DefaultAdamWOptions()
	require.NoError(t, ok.Validate())
	cases := []struct {
		name string
		mod  func(*AdamWOptions)
		msg  string
	}{
		{"beta1 = 1", func(o *AdamWOptions) { o.Beta1 = 1 }, "Beta1"},
		{"beta2 < 0", func(o *AdamWOptions) { o.Beta2 = -0.1 }, "Beta2"},
		{"eps NaN", func(o *AdamWOptions) { o.Eps = math.NaN() }, "Eps"},
		{"wd < 0", func(o *AdamWOptions) { o.WeightDecay = -1 }, "WeightDecay"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultAdamWOptions()
			tc.mod(&o)
			err := o.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestNewAdamWErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x := ts.MustZeros([]int64{2}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	ids := ts.MustZeros([]int64{2}, gotch.Int64, gotch.CPU)
	defer ids.MustDrop()
	_, err := NewAdamW(nil, DefaultAdamWOptions())
	assert.ErrorContains(t, err, "no parameters")
	_, err = NewAdamW([]Param{{"a", x}, {"a", x}}, DefaultAdamWOptions())
	assert.ErrorContains(t, err, `duplicate parameter name "a"`)
	_, err = NewAdamW([]Param{{"ids", ids}}, DefaultAdamWOptions())
	assert.ErrorContains(t, err, "not floating point")
	_, err = NewAdamW([]Param{{"n", nil}}, DefaultAdamWOptions())
	assert.ErrorContains(t, err, "nil tensor")
	opt, err := NewAdamW([]Param{{"a", x}}, DefaultAdamWOptions())
	require.NoError(t, err)
	assert.ErrorContains(t, opt.Step(math.NaN()), "invalid learning rate")
	assert.ErrorContains(t, opt.Step(-1), "invalid learning rate")
	require.NoError(t, opt.Step(0.1), "no gradient: nothing to do")
	require.NoError(t, opt.Close())
	assert.ErrorContains(t, opt.Step(0.1), "closed")
}

// mbertKeys is a sample of the HF keys of bert-base-multilingual-cased
// (BertForMaskedLM) with the group HF Trainer puts each in.
var mbertKeys = []struct {
	name    string
	noDecay bool
}{
	{"bert.embeddings.word_embeddings.weight", false},
	{"bert.embeddings.position_embeddings.weight", false},
	{"bert.embeddings.token_type_embeddings.weight", false},
	{"bert.embeddings.LayerNorm.weight", true},
	{"bert.embeddings.LayerNorm.bias", true},
	{"bert.encoder.layer.0.attention.self.query.weight", false},
	{"bert.encoder.layer.0.attention.self.query.bias", true},
	{"bert.encoder.layer.0.attention.output.dense.weight", false},
	{"bert.encoder.layer.0.attention.output.LayerNorm.weight", true},
	{"bert.encoder.layer.11.intermediate.dense.weight", false},
	{"bert.encoder.layer.11.output.LayerNorm.bias", true},
	{"bert.pooler.dense.weight", false},
	{"cls.predictions.bias", true},
	{"cls.predictions.transform.dense.weight", false},
	{"cls.predictions.transform.LayerNorm.weight", true},
	{"classifier.weight", false},
	{"classifier.bias", true},
}

func TestHFNoDecay(t *testing.T) {
	for _, k := range mbertKeys {
		assert.Equal(t, k.noDecay, HFNoDecay(k.name), k.name)
	}
}

func TestLinearScheduleMatchesHF(t *testing.T) {
	p := loadParity(t)
	for _, s := range p.Schedules {
		sched := LinearSchedule{BaseLR: s.BaseLR, Warmup: s.Warmup, Total: s.Total}
		require.NoError(t, sched.Validate())
		for step, want := range s.LRs {
			assert.Equal(t, want, sched.LR(step), "warmup %d total %d step %d", s.Warmup, s.Total, step)
		}
	}
}

func TestLinearScheduleTable(t *testing.T) {
	cases := []struct {
		name string
		s    LinearSchedule
		step int
		want float64
	}{
		{"first update of a warmup is 0", LinearSchedule{1, 4, 10}, 0, 0},
		{"warmup middle", LinearSchedule{1, 4, 10}, 2, 0.5},
		{"peak at warmup", LinearSchedule{1, 4, 10}, 4, 1},
		{"decay", LinearSchedule{1, 4, 10}, 7, 0.5},
		{"end", LinearSchedule{1, 4, 10}, 10, 0},
		{"past the end", LinearSchedule{1, 4, 10}, 12, 0},
		{"no warmup starts at peak", LinearSchedule{2, 0, 4}, 0, 2},
		{"warmup >= total", LinearSchedule{1, 10, 10}, 10, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, tc.s.LR(tc.step), 1e-15)
		})
	}
	assert.Error(t, LinearSchedule{BaseLR: -1}.Validate())
	assert.Error(t, LinearSchedule{BaseLR: 1, Warmup: -1}.Validate())
}

func TestWarmupSteps(t *testing.T) {
	// HF: math.ceil(num_training_steps * warmup_ratio)
	assert.Equal(t, 2, WarmupSteps(0.1, 20))
	assert.Equal(t, 3, WarmupSteps(0.1, 21))
	assert.Equal(t, 0, WarmupSteps(0, 100))
	assert.Equal(t, 1, WarmupSteps(0.1, 1))
	assert.Equal(t, 1185, WarmupSteps(0.1, 11850))
}

// clipParams are the clipping tests' parameters: a = [3, 0], b = [4] and
// "none", which never gets a gradient; they are dropped when t ends.
func clipParams(t *testing.T) []Param {
	a := newLeaf(t, []float64{3, 0}, []int64{2})
	b := newLeaf(t, []float64{4}, []int64{1})
	none := newLeaf(t, []float64{1}, []int64{1})
	t.Cleanup(func() { a.MustDrop(); b.MustDrop(); none.MustDrop() })
	return []Param{{"a", a}, {"b", b}, {"none", none}}
}

func TestClipGradNorm(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	params := clipParams(t)
	a, b := params[0].Tensor, params[1].Tensor

	// No gradients yet: norm 0.
	n, err := ClipGradNorm(params, 1)
	require.NoError(t, err)
	assert.Equal(t, 0.0, n)

	// grad = the tensor's own value, via loss = Σ p·c with c = value.
	for _, tc := range []struct {
		name    string
		max     float64
		wantA   []float32
		wantB   []float32
		clipped bool
	}{
		{"no clipping above the norm", 10, []float32{3, 0}, []float32{4}, false},
		{"clip to 1", 1, []float32{float32(3 * (1 / (5 + 1e-6))), 0}, []float32{float32(4 * (1 / (5 + 1e-6)))}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			require.NoError(t, ZeroGrads(params))
			setGrads(t, a, []float32{3, 0}, b, []float32{4})
			n, err := ClipGradNorm(params, tc.max)
			require.NoError(t, err)
			assert.InDelta(t, 5.0, n, 1e-6)
			ga, err := a.Grad(false)
			require.NoError(t, err)
			defer ga.MustDrop()
			gb, err := b.Grad(false)
			require.NoError(t, err)
			defer gb.MustDrop()
			assert.InDeltaSlice(t, tc.wantA, values(t, ga), 1e-6)
			assert.InDeltaSlice(t, tc.wantB, values(t, gb), 1e-6)
		})
	}
	_, err = ClipGradNorm(params, 0)
	assert.ErrorContains(t, err, "max norm")
}

func TestAdamWStepDoesNotLeak(t *testing.T) {
	for _, impl := range []string{ImplSingleTensor, ImplForeach} {
		t.Run(impl, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			p := loadParity(t)
			f := newFixture(t, p)
			defer f.drop()
			o := parityOptions(p)
			o.Impl = impl
			opt, err := NewAdamW(f.params, o)
			require.NoError(t, err)
			defer opt.Close()
			f.run(t, opt, LinearSchedule{BaseLR: 0.01, Total: 100}, 0, 1, false) // state created
			before := len(ts.ExistingTensors)
			for i := 0; i < 50; i++ {
				require.NoError(t, opt.ZeroGrad())
				f.backward(t, i%p.Steps)
				if impl == ImplForeach {
					n, err := ClipGradNormDevice(f.params, 0.5)
					require.NoError(t, err)
					n.MustDrop()
				} else {
					_, err := ClipGradNorm(f.params, 0.5)
					require.NoError(t, err)
				}
				require.NoError(t, opt.Step(0.01))
			}
			assert.Equal(t, before, len(ts.ExistingTensors))
		})
	}
}

// TestAdamWForeachEqualsSingleTensor runs the two kernels side by side on
// the parity fixture's 25 steps and compares every parameter after every
// step.
func TestAdamWForeachEqualsSingleTensor(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := loadParity(t)
	sched := LinearSchedule{BaseLR: p.BaseLR, Warmup: p.Warmup, Total: p.Total}
	fs := map[string]*fixture{}
	opts := map[string]*AdamW{}
	for _, impl := range []string{ImplSingleTensor, ImplForeach} {
		f := newFixture(t, p)
		defer f.drop()
		o := parityOptions(p)
		o.Impl = impl
		opt, err := NewAdamW(f.params, o)
		require.NoError(t, err)
		defer opt.Close()
		fs[impl], opts[impl] = f, opt
	}
	require.Equal(t, 25, p.Steps)
	maxDiff := 0.0
	for s := 0; s < p.Steps; s++ {
		for impl, f := range fs {
			f.run(t, opts[impl], sched, s, s+1, false)
		}
		for _, n := range p.Names {
			a, b := values(t, fs[ImplSingleTensor].byName[n]), values(t, fs[ImplForeach].byName[n])
			for i := range a {
				maxDiff = math.Max(maxDiff, math.Abs(float64(a[i])-float64(b[i])))
				require.InDelta(t, a[i], b[i], 1e-6, "%s[%d] after step %d", n, i, s)
			}
		}
	}
	t.Logf("max |single-tensor − foreach| over 25 steps: %.3g", maxDiff)
	// Same state dict layout from both.
	sa, na, err := opts[ImplSingleTensor].StateDict()
	require.NoError(t, err)
	defer dropAll(sa)
	sb, nb, err := opts[ImplForeach].StateDict()
	require.NoError(t, err)
	defer dropAll(sb)
	assert.Equal(t, na, nb)
	require.Len(t, sb, len(sa))
	for k := range sa {
		require.Contains(t, sb, k)
	}
}

func TestAdamWImplOption(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x := ts.MustZeros([]int64{2}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	o := DefaultAdamWOptions()
	o.Impl = "turbo"
	assert.ErrorContains(t, o.Validate(), `Impl "turbo"`)
	_, err := NewAdamW([]Param{{"a", x}}, o)
	assert.ErrorContains(t, err, "want auto, fused, foreach or single-tensor")

	for impl, want := range map[string]string{"": ImplForeach, ImplAuto: ImplForeach, ImplForeach: ImplForeach, ImplSingleTensor: ImplSingleTensor} {
		o.Impl = impl
		opt, err := NewAdamW([]Param{{"a", x}}, o)
		require.NoError(t, err, impl)
		assert.Equal(t, want, opt.Implementation(), "CPU parameters, impl %q", impl)
		require.NoError(t, opt.Close())
	}
	o.Impl = ImplFused
	opt, err := NewAdamW([]Param{{"a", x}}, o)
	if bbshim.HasFusedAdamW() {
		require.NoError(t, err)
		assert.Equal(t, ImplFused, opt.Implementation())
		require.NoError(t, opt.Close())
	} else {
		assert.ErrorContains(t, err, "Impl fused needs libtorch >= 2.0")
	}
}

func TestClipGradNormDevice(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	params := clipParams(t)
	a, b := params[0].Tensor, params[1].Tensor

	n, err := ClipGradNormDevice(params, 1)
	require.NoError(t, err)
	v, err := n.Float64Value([]int64{})
	require.NoError(t, err)
	n.MustDrop()
	assert.Equal(t, 0.0, v, "no gradients: norm 0")

	for _, tc := range []struct {
		name         string
		max          float64
		wantA, wantB []float32
	}{
		{"no clipping above the norm", 10, []float32{3, 0}, []float32{4}},
		{"clip to 1", 1, []float32{float32(3 * (1 / (5 + 1e-6))), 0}, []float32{float32(4 * (1 / (5 + 1e-6)))}},
		{"clip to 2.5", 2.5, []float32{float32(3 * (2.5 / (5 + 1e-6))), 0}, []float32{float32(4 * (2.5 / (5 + 1e-6)))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			require.NoError(t, ZeroGrads(params))
			setGrads(t, a, []float32{3, 0}, b, []float32{4})
			before := len(ts.ExistingTensors)
			n, err := ClipGradNormDevice(params, tc.max)
			require.NoError(t, err)
			assert.Equal(t, before+1, len(ts.ExistingTensors), "only the norm tensor is new")
			assert.Equal(t, []int64{}, n.MustSize(), "0-dim")
			v, err := n.Float64Value([]int64{})
			require.NoError(t, err)
			n.MustDrop()
			assert.InDelta(t, 5.0, v, 1e-6)
			ga, err := a.Grad(false)
			require.NoError(t, err)
			defer ga.MustDrop()
			gb, err := b.Grad(false)
			require.NoError(t, err)
			defer gb.MustDrop()
			assert.InDeltaSlice(t, tc.wantA, values(t, ga), 1e-6)
			assert.InDeltaSlice(t, tc.wantB, values(t, gb), 1e-6)
		})
	}
	_, err = ClipGradNormDevice(params, 0)
	assert.ErrorContains(t, err, "max norm")
	_, err = ClipGradNormDevice(nil, 1)
	assert.ErrorContains(t, err, "no parameters")
}

// setGrads sets a's and b's gradients to ga and gb (loss = Σ a·ga + Σ b·gb).
func setGrads(t *testing.T, a *ts.Tensor, ga []float32, b *ts.Tensor, gb []float32) {
	t.Helper()
	unscaled, err := NewGradScaler(ScalerOptions{}) // disabled: backward of the loss itself
	require.NoError(t, err)
	scaledBackward(t, unscaled, a, ga, b, gb)
}
