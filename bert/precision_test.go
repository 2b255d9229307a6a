package bert

import (
	"math"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// maskedAt returns the flat positions and labels of the labels ≠ IgnoreIndex.
func maskedAt(t *testing.T, s *tensors.Scope, rows [][]int64) (pos, lab *ts.Tensor) {
	t.Helper()
	var p, l []int64
	for i, y := range flatten(rows) {
		if y != IgnoreIndex {
			p, l = append(p, int64(i)), append(l, y)
		}
	}
	pt, err := tensors.FromInt64s(p, []int64{int64(len(p))}, gotch.CPU)
	require.NoError(t, err)
	lt, err := tensors.FromInt64s(l, []int64{int64(len(l))}, gotch.CPU)
	require.NoError(t, err)
	return s.Add(pt), s.Add(lt)
}

func TestLossAtMatchesLoss(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := readExpected(t, "tiny")
	m, _, err := LoadForMaskedLM(filepath.Join("testdata", "tiny", "mlm"), LoadOptions{})
	require.NoError(t, err)
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	pos, lab := maskedAt(t, s, e.MLMLabels)
	require.Greater(t, pos.MustSize()[0], int64(0))
	for _, p := range []Precision{PrecisionFP32, PrecisionBF16} {
		require.NoError(t, m.SetPrecision(p))
		want, err := m.Loss(in, int64Tensor(t, s, e.MLMLabels), false)
		require.NoError(t, err)
		got, err := m.LossAt(in, pos, lab, false)
		require.NoError(t, err)
		assert.InDelta(t, s.Add(want).MustFloat64Value([]int64{}), s.Add(got).MustFloat64Value([]int64{}), 1e-6, string(p))
	}
	require.NoError(t, m.SetPrecision(PrecisionFP32))
	got, err := m.LossAt(in, pos, lab, false)
	require.NoError(t, err)
	assert.InDelta(t, e.MLMLoss, s.Add(got).MustFloat64Value([]int64{}), 1e-5, "HF's loss")

	// errors name the bad argument
	n := pos.MustSize()[0]
	bad := func(vals []int64) *ts.Tensor {
		x, err := tensors.FromInt64s(vals, []int64{int64(len(vals))}, gotch.CPU)
		require.NoError(t, err)
		return s.Add(x)
	}
	bt := int64(len(e.InputIDs) * len(e.InputIDs[0]))
	for _, tc := range []struct {
		name     string
		pos, lab *ts.Tensor
		want     string
	}{
		{"nil positions", nil, lab, "positions are nil"},
		{"position out of range", bad([]int64{0, bt}), bad([]int64{5, 6}), "positions outside [0,"},
		{"label out of range", bad([]int64{0, 1}), bad([]int64{5, int64(m.Config().VocabSize)}), "labels outside [0,"},
		{"length mismatch", pos, bad(make([]int64, n+1)), "want ("},
		{"2-D positions", s.Add(pos.MustView([]int64{1, -1}, false)), lab, "positions shape"},
		{"float labels", pos, s.Add(lab.MustTotype(gotch.Float, false)), "labels dtype"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.LossAt(in, tc.pos, tc.lab, false)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestParsePrecision(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Precision
		err  bool
	}{
		{"", PrecisionFP32, false}, {"fp32", PrecisionFP32, false}, {"BF16", PrecisionBF16, false},
		{" fp16", PrecisionFP16, false}, {"tf32", "", true}, {"float16", "", true},
	} {
		p, err := ParsePrecision(tc.in)
		if tc.err {
			assert.ErrorContains(t, err, "want fp32, bf16 or fp16", tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, p)
	}
	m := &Model{dev: gotch.CPU}
	assert.Equal(t, PrecisionFP32, m.Precision())
	assert.ErrorContains(t, m.SetPrecision("float16"), "want fp32, bf16 or fp16")
	assert.Error(t, m.SetPrecision(""))
	require.NoError(t, m.SetPrecision(PrecisionBF16))
	assert.Equal(t, PrecisionBF16, m.Precision())

	assert.Equal(t, gotch.Float, PrecisionFP32.dtype())
	assert.Equal(t, gotch.BFloat16, PrecisionBF16.dtype())
	assert.Equal(t, gotch.Half, PrecisionFP16.dtype())
}

// TestMaskMin: the mask value of each compute dtype is that dtype's most
// negative finite value (torch.finfo(dtype).min) and survives the cast.
func TestMaskMin(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, tc := range []struct {
		dt   gotch.DType
		want float64
	}{
		{gotch.Float, -3.4028234663852886e38},
		{gotch.BFloat16, -3.3895313892515355e38},
		{gotch.Half, -65504},
	} {
		t.Run(tc.dt.String(), func(t *testing.T) {
			assert.Equal(t, tc.want, maskMin(tc.dt))
			s := tensors.NewScope()
			defer s.Drop()
			v := ts.FloatScalar(tc.want)
			x := s.Add(ts.MustFull([]int64{1}, v, gotch.Double, gotch.CPU))
			runtime.KeepAlive(v)
			back := s.Add(s.Add(x.MustTotype(tc.dt, false)).MustTotype(gotch.Double, false))
			assert.Equal(t, tc.want, back.MustFloat64Value([]int64{0}), "exact in %v", tc.dt)
		})
	}
}

// TestFP16NeedsCUDA: fp16 on a CPU model is refused when it is set, with
// ErrFP16NeedsCUDA, and the precision is left as it was.
func TestFP16NeedsCUDA(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	torchutil.ManualSeed(1)
	base, err := NewModel(TinyConfig(), gotch.CPU)
	require.NoError(t, err)
	defer base.VarStore().Destroy()
	mlm, err := NewForMaskedLM(TinyConfig(), gotch.CPU)
	require.NoError(t, err)
	defer mlm.VarStore().Destroy()
	c := TinyConfig()
	c.ID2Label = map[int]string{0: "O", 1: "B-X", 2: "I-X"}
	tok, err := NewForTokenClassification(c, gotch.CPU)
	require.NoError(t, err)
	defer tok.VarStore().Destroy()
	for _, tc := range []struct {
		name string
		set  func(Precision) error
		get  func() Precision
	}{
		{"base", base.SetPrecision, base.Precision},
		{"mlm", mlm.SetPrecision, mlm.Precision},
		{"token classification", tok.SetPrecision, tok.Precision},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.set(PrecisionBF16))
			err := tc.set(PrecisionFP16)
			require.ErrorIs(t, err, ErrFP16NeedsCUDA)
			assert.EqualError(t, err, "bert: precision fp16 on device cpu: fp16 needs a CUDA device; use bf16 or fp32 on the CPU")
			assert.Equal(t, PrecisionBF16, tc.get(), "unchanged")
		})
	}
}

// relDiff is max|a−b| / max|b|.
func relDiff(a, b []float64) float64 {
	var d, n float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		n = math.Max(n, math.Abs(b[i]))
	}
	return d / n
}

// TestBF16ForwardCloseToFP32: the bf16 forward passes of the HF fixtures
// give float32 outputs within bf16's precision of the fp32 ones, and
// different from them (the casts happen).
func TestBF16ForwardCloseToFP32(t *testing.T) {
	forwardCloseToFP32(t, PrecisionBF16, gotch.CPU)
}

// TestFP16ForwardCloseToFP32 is TestBF16ForwardCloseToFP32 at fp16 on the
// first CUDA device (there is no fp16 on the CPU). It skips without CUDA.
func TestFP16ForwardCloseToFP32(t *testing.T) {
	if !gotch.CUDA.IsAvailable() {
		t.Skip("no CUDA device (fp16 needs one)")
	}
	forwardCloseToFP32(t, PrecisionFP16, gotch.CudaBuilder(0))
}

// forwardCloseToFP32 compares the forward passes at precision p with the
// fp32 ones, on dev: within 5e-2 of the largest output, and not equal.
func forwardCloseToFP32(t *testing.T, p Precision, dev gotch.Device) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := readExpected(t, "tiny")
	mlm, _, err := LoadForMaskedLM(filepath.Join("testdata", "tiny", "mlm"), LoadOptions{Device: dev})
	require.NoError(t, err)
	defer mlm.VarStore().Destroy()
	tok, _, err := LoadForTokenClassification(filepath.Join("testdata", "tiny", "token-classification"), LoadOptions{Device: dev})
	require.NoError(t, err)
	defer tok.VarStore().Destroy()
	torchutil.ManualSeed(3)
	base, err := NewModel(TinyConfig(), dev)
	require.NoError(t, err)
	defer base.VarStore().Destroy()
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	for _, tc := range []struct {
		name string
		set  func(Precision) error
		fwd  func() (*ts.Tensor, error)
	}{
		{"mlm logits", mlm.SetPrecision, func() (*ts.Tensor, error) { return mlm.Forward(in, false) }},
		{"token logits", tok.SetPrecision, func() (*ts.Tensor, error) { return tok.Forward(in, false) }},
		{"hidden states", mlm.SetPrecision, func() (*ts.Tensor, error) { return mlm.Bert.Forward(in, false) }},
		{"pooled", base.SetPrecision, func() (*ts.Tensor, error) { return base.Pooled(in, false) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.set(PrecisionFP32))
			ref, err := tc.fwd()
			require.NoError(t, err)
			require.NoError(t, tc.set(p))
			got, err := tc.fwd()
			require.NoError(t, err)
			require.NoError(t, tc.set(PrecisionFP32))
			assert.Equal(t, gotch.Float, got.DType(), "outputs are float32")
			rv, rs := values(t, s.Add(ref))
			gv, gs := values(t, s.Add(got))
			require.Equal(t, rs, gs)
			d := relDiff(gv, rv)
			t.Logf("%s: max |%s − fp32| / max |fp32| = %.3g", tc.name, p, d)
			assert.Less(t, d, 5e-2)
			assert.Greater(t, d, 0.0, "%s computes differently", p)
		})
	}
}

// trainTiny trains a fresh tiny MLM on dev at precision p for steps AdamW
// steps on one fixed batch, through optim.GradScaler's protocol (enabled
// for fp16 only, as a trainer would), and returns the first and last losses,
// the number of skipped (overflowed) steps and the model.
func trainTiny(t *testing.T, p Precision, dev gotch.Device, steps int) (first, last float64, skipped int, m *ForMaskedLM) {
	t.Helper()
	torchutil.ManualSeed(7)
	c := TinyConfig()
	m, err := NewForMaskedLM(c, dev)
	require.NoError(t, err)
	require.NoError(t, m.SetPrecision(p))
	s := tensors.NewScope()
	defer s.Drop()
	const b, T = 4, 16
	ids := make([]int64, b*T)
	var pos, lab []int64
	for i := range ids {
		ids[i] = int64(4 + (i*37)%(c.VocabSize-4))
		if i%5 == 2 {
			pos, lab = append(pos, int64(i)), append(lab, ids[i])
			ids[i] = 3
		}
	}
	x, err := tensors.FromInt64s(ids, []int64{b, T}, gotch.CPU)
	require.NoError(t, err)
	in := Inputs{InputIDs: s.Add(x)}
	pt, err := tensors.FromInt64s(pos, []int64{int64(len(pos))}, gotch.CPU)
	require.NoError(t, err)
	lt, err := tensors.FromInt64s(lab, []int64{int64(len(lab))}, gotch.CPU)
	require.NoError(t, err)
	s.Add(pt)
	s.Add(lt)
	ps := m.Parameters()
	opt, err := optim.NewAdamW(ps, optim.DefaultAdamWOptions())
	require.NoError(t, err)
	defer opt.Close()
	so := optim.DefaultScalerOptions()
	so.Enabled = p == PrecisionFP16
	scaler, err := optim.NewGradScaler(so)
	require.NoError(t, err)
	for i := 0; i < steps; i++ {
		loss, err := m.LossAt(in, pt, lt, false)
		require.NoError(t, err)
		assert.Equal(t, gotch.Float, loss.DType())
		scaled, err := scaler.Scale(loss)
		require.NoError(t, err)
		require.NoError(t, scaled.Backward())
		scaled.MustDrop()
		v := loss.MustFloat64Value([]int64{})
		loss.MustDrop()
		if i == 0 {
			first = v
			for _, q := range m.Parameters() { // gradients reach the fp32 parameters, in fp32
				g, err := q.Tensor.Grad(false)
				require.NoError(t, err)
				require.True(t, g.MustDefined(), q.Name)
				assert.Equal(t, gotch.Float, g.DType(), q.Name)
				g.MustDrop()
			}
		}
		last = v
		stepped, err := scaler.Step(ps, func() error { return opt.Step(3e-3) })
		require.NoError(t, err)
		if !stepped {
			skipped++
		}
		require.NoError(t, opt.ZeroGrad())
	}
	return first, last, skipped, m
}

// TestBF16TrainsLikeFP32: a tiny model trained in bf16 lowers its loss as
// the fp32 one does; parameters and gradients stay float32 and the saved
// checkpoint is float32.
func TestBF16TrainsLikeFP32(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	trainsLikeFP32(t, PrecisionBF16, gotch.CPU)
}

// TestFP16TrainsLikeFP32 is TestBF16TrainsLikeFP32 at fp16 with a
// GradScaler on the first CUDA device. It skips without CUDA.
func TestFP16TrainsLikeFP32(t *testing.T) {
	if !gotch.CUDA.IsAvailable() {
		t.Skip("no CUDA device (fp16 needs one)")
	}
	trainsLikeFP32(t, PrecisionFP16, gotch.CudaBuilder(0))
}

// trainsLikeFP32 trains at fp32 and at p on dev and compares the losses;
// parameters and the saved checkpoint stay float32.
func trainsLikeFP32(t *testing.T, p Precision, dev gotch.Device) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const steps = 40
	f32a, f32b, skipped, m32 := trainTiny(t, PrecisionFP32, dev, steps)
	m32.VarStore().Destroy()
	require.Zero(t, skipped, "a disabled scaler never skips")
	la, lb, skipped, m := trainTiny(t, p, dev, steps)
	defer m.VarStore().Destroy()
	t.Logf("loss fp32 %.4f → %.4f, %s %.4f → %.4f (%d steps skipped)", f32a, f32b, p, la, lb, skipped)
	assert.InDelta(t, f32a, la, 0.05*f32a, "same start")
	assert.Less(t, lb, 0.5*la, "%s training reduces the loss", p)
	assert.InDelta(t, f32b, lb, 0.25*f32a, "like fp32")
	assert.LessOrEqual(t, skipped, 5, "the scale settles")
	for _, p := range m.Parameters() {
		assert.Equal(t, gotch.Float, p.Tensor.DType(), p.Name)
	}
	dir := t.TempDir()
	require.NoError(t, m.Save(dir))
	w, _, err := safetensors.ReadFile(filepath.Join(dir, SafetensorsFile))
	require.NoError(t, err)
	require.NotEmpty(t, w)
	for k, v := range w {
		assert.Equal(t, safetensors.F32, v.DType, k)
	}
}
