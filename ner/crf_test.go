package ner

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// crfProblem is a small batch: logits (B, T, L) and a label matrix with
// ignored tokens between the labelled ones, a row without any labelled
// token and rows of different lengths.
type crfProblem struct {
	b, t, l int
	logits  []float64
	labels  []int64
	w       *crfWeights
}

func newCRFProblem(seed uint64) crfProblem {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := crfProblem{b: 4, t: 6, l: 3}
	p.logits = make([]float64, p.b*p.t*p.l)
	for i := range p.logits {
		p.logits[i] = rng.NormFloat64()
	}
	ig := int64(-100)
	p.labels = []int64{
		0, 2, ig, 1, 1, ig,
		ig, 1, ig, ig, ig, ig,
		ig, ig, ig, ig, ig, ig,
		2, 0, 1, 2, ig, 0,
	}
	tr := make([]float32, p.l*p.l)
	st, en := make([]float32, p.l), make([]float32, p.l)
	for i := range tr {
		tr[i] = float32(rng.NormFloat64())
	}
	for i := range st {
		st[i], en[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	p.w, _ = newCRFWeights(tr, st, en)
	return p
}

// bruteNLL enumerates every tag sequence of every row: the mean negative
// log-likelihood per labelled token.
func (p crfProblem) bruteNLL(logits []float64, w *crfWeights) float64 {
	total, n := 0.0, 0
	for r := range p.b {
		var pos []int
		var gold []int
		for j := range p.t {
			if y := p.labels[r*p.t+j]; y >= 0 {
				pos, gold = append(pos, j), append(gold, int(y))
			}
		}
		if len(pos) == 0 {
			continue
		}
		score := func(y []int) float64 {
			s := w.start[y[0]] + w.end[y[len(y)-1]]
			for k, j := range pos {
				s += logits[(r*p.t+j)*p.l+y[k]]
				if k > 0 {
					s += w.trans[y[k-1]][y[k]]
				}
			}
			return s
		}
		var all []float64
		forEachSequence(len(pos), p.l, func(y []int) { all = append(all, score(y)) })
		m := math.Inf(-1)
		for _, x := range all {
			m = math.Max(m, x)
		}
		z := 0.0
		for _, x := range all {
			z += math.Exp(x - m)
		}
		total += m + math.Log(z) - score(gold)
		n += len(pos)
	}
	return total / float64(n)
}

// tensorsOf builds the logits (requires grad) and a CRF holding p.w.
func (p crfProblem) tensorsOf(t *testing.T) (*ts.Tensor, *crf) {
	t.Helper()
	f := make([]float32, len(p.logits))
	for i, x := range p.logits {
		f[i] = float32(x)
	}
	lg, err := tensors.FromFloat32s(f, []int64{int64(p.b), int64(p.t), int64(p.l)}, gotch.CPU)
	require.NoError(t, err)
	lg = lg.MustSetRequiresGrad(true, true)
	flat := func(rows ...[]float64) []float32 {
		var out []float32
		for _, r := range rows {
			for _, x := range r {
				out = append(out, float32(x))
			}
		}
		return out
	}
	mk := func(v []float32, shape ...int64) *ts.Tensor {
		x, err := tensors.FromFloat32s(v, shape, gotch.CPU)
		require.NoError(t, err)
		return x.MustSetRequiresGrad(true, true)
	}
	L := int64(p.l)
	return lg, &crf{trans: mk(flat(p.w.trans...), L, L), start: mk(flat(p.w.start), L), end: mk(flat(p.w.end), L)}
}

func TestCRFNLLEqualsBruteForce(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for seed := range uint64(4) {
		p := newCRFProblem(seed)
		lg, c := p.tensorsOf(t)
		nll, err := c.nll(lg, crfBatchSequences(p.labels, p.b, p.t))
		require.NoError(t, err)
		got, err := tensors.Float32s(nll)
		require.NoError(t, err)
		assert.InDelta(t, p.bruteNLL(p.logits, p.w), float64(got[0]), 1e-5, "seed %d", seed)
		tensors.DropAll(nll, lg)
		c.drop()
	}
}

// The autograd gradients of the NLL with respect to the logits and the
// CRF's parameters equal central differences of the brute-force NLL.
func TestCRFGradientsNumeric(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p := newCRFProblem(9)
	lg, c := p.tensorsOf(t)
	defer c.drop()
	defer lg.MustDrop()
	nll, err := c.nll(lg, crfBatchSequences(p.labels, p.b, p.t))
	require.NoError(t, err)
	defer nll.MustDrop()
	require.NoError(t, nll.Backward())
	grad := func(x *ts.Tensor) []float32 {
		g, err := x.Grad(false)
		require.NoError(t, err)
		defer g.MustDrop()
		v, err := tensors.Float32s(g)
		require.NoError(t, err)
		return v
	}
	const eps, tol = 1e-5, 2e-4
	gl := grad(lg)
	for i := range p.logits {
		up, down := append([]float64(nil), p.logits...), append([]float64(nil), p.logits...)
		up[i] += eps
		down[i] -= eps
		num := (p.bruteNLL(up, p.w) - p.bruteNLL(down, p.w)) / (2 * eps)
		assert.InDelta(t, num, float64(gl[i]), tol, "d/dlogits[%d]", i)
	}
	clone := func() *crfWeights {
		w := &crfWeights{start: append([]float64(nil), p.w.start...), end: append([]float64(nil), p.w.end...)}
		for _, r := range p.w.trans {
			w.trans = append(w.trans, append([]float64(nil), r...))
		}
		return w
	}
	gt, gs, ge := grad(c.trans), grad(c.start), grad(c.end)
	for i := range p.l {
		for j := range p.l {
			up, down := clone(), clone()
			up.trans[i][j] += eps
			down.trans[i][j] -= eps
			num := (p.bruteNLL(p.logits, up) - p.bruteNLL(p.logits, down)) / (2 * eps)
			assert.InDelta(t, num, float64(gt[i*p.l+j]), tol, "d/dtrans[%d][%d]", i, j)
		}
		up, down := clone(), clone()
		up.start[i] += eps
		down.start[i] -= eps
		assert.InDelta(t, (p.bruteNLL(p.logits, up)-p.bruteNLL(p.logits, down))/(2*eps), float64(gs[i]), tol, "d/dstart[%d]", i)
		up, down = clone(), clone()
		up.end[i] += eps
		down.end[i] -= eps
		assert.InDelta(t, (p.bruteNLL(p.logits, up)-p.bruteNLL(p.logits, down))/(2*eps), float64(ge[i]), tol, "d/dend[%d]", i)
	}
}

// Viterbi with CRF scores finds the best sequence by enumeration, with and
// without the scheme's constraints.
func TestCRFViterbiEqualsBruteForce(t *testing.T) {
	labels := []string{"O", "B-X", "I-X"}
	for seed := range uint64(20) {
		p := newCRFProblem(seed)
		rng := rand.New(rand.NewPCG(seed, 2))
		n := 1 + int(seed%5)
		scores := make([][]float64, n)
		for i := range scores {
			scores[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		}
		for _, s := range []Scheme{IO, IOB2} {
			tr := schemeTransitions(labels, s)
			best, want := math.Inf(-1), []int(nil)
			forEachSequence(n, 3, func(y []int) {
				if !satisfies(y, tr) {
					return
				}
				v := p.w.start[y[0]] + p.w.end[y[n-1]]
				for i, l := range y {
					v += scores[i][l]
					if i > 0 {
						v += p.w.trans[y[i-1]][l]
					}
				}
				if v > best {
					best, want = v, append([]int(nil), y...)
				}
			})
			assert.Equal(t, want, viterbi(scores, tr, p.w), "seed %d %v", seed, s)
		}
	}
}

func TestCRFSaveLoad(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	torchutil.ManualSeed(3)
	c, err := newCRF(5, gotch.CPU)
	require.NoError(t, err)
	defer c.drop()
	for _, p := range c.params() {
		assert.True(t, p.Tensor.MustRequiresGrad(), p.Name)
		v, err := tensors.Float32s(p.Tensor)
		require.NoError(t, err)
		for _, x := range v {
			assert.True(t, x >= -0.1 && x <= 0.1, "%s %v", p.Name, x)
		}
	}
	dir := t.TempDir()
	require.NoError(t, saveCRF(dir, c))
	want, err := c.hostWeights()
	require.NoError(t, err)
	got, err := loadCRFWeights(dir, 5)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	back, err := loadCRF(dir, 5, gotch.CPU)
	require.NoError(t, err)
	defer back.drop()
	bw, err := back.hostWeights()
	require.NoError(t, err)
	assert.Equal(t, want, bw)

	_, err = loadCRFWeights(dir, 4)
	assert.ErrorContains(t, err, "want 16")
	none, err := loadCRFWeights(t.TempDir(), 5)
	require.NoError(t, err)
	assert.Nil(t, none)
	_, err = loadCRF(t.TempDir(), 5, gotch.CPU)
	assert.ErrorContains(t, err, "not trained with a CRF")
}

// Training with a CRF head writes crf.safetensors beside the model; the
// tagger decodes with it; a cancelled run resumes to the same losses; the
// CUDA-graph path and class weights are refused.
func TestTrainWithCRF(t *testing.T) {
	tok := demoTokenizer(t)
	full := demoSplit(t)
	small := Split{Train: full.Train.subset(full.Train.Documents[:8]), Dev: full.Dev.subset(full.Dev.Documents[:3])}
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	o := fastOptions("")
	o.Epochs, o.BatchSize, o.CRF = 2, 8, true

	o.OutDir = t.TempDir()
	want, err := Train(context.Background(), modelDir, tok, small, o)
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(want.BestDir, CRFFile))
	tg, err := Load(want.BestDir, TaggerOptions{MaxLen: 64})
	require.NoError(t, err)
	require.NotNil(t, tg.crf)
	_, err = tg.Predict("Paciente com dor torácica há 2 dias.")
	require.NoError(t, err)
	require.NoError(t, tg.Close())

	out := t.TempDir()
	o.OutDir = out
	ctx, cancel := context.WithCancel(context.Background())
	o.OnStep = func(m StepMetrics) {
		if m.Step == 2 {
			cancel()
		}
	}
	_, err = Train(ctx, modelDir, tok, small, o)
	require.ErrorIs(t, err, context.Canceled)
	o.OnStep, o.Resume = nil, true
	got, err := Train(context.Background(), modelDir, tok, small, o)
	require.NoError(t, err)
	require.Len(t, got.Epochs, len(want.Epochs))
	for i := range want.Epochs {
		assert.InDelta(t, want.Epochs[i].TrainLoss, got.Epochs[i].TrainLoss, 1e-5, "epoch %d", i+1)
		assert.InDelta(t, want.Epochs[i].DevF1, got.Epochs[i].DevF1, 1e-9, "epoch %d", i+1)
	}

	bad := o
	bad.CUDAGraph = true
	assert.ErrorContains(t, bad.Validate(), "CRF true: not with CUDAGraph")
	bad = o
	bad.BalanceClasses = true
	assert.ErrorContains(t, bad.Validate(), "CRF true: not with class weights")
	bad = o
	bad.LabelAll = true
	assert.ErrorContains(t, bad.Validate(), "CRF true: not with LabelAll")
}
