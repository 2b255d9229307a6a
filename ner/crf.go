package ner

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// CRFFile is the file of a model directory that holds the CRF head's
// weights (TrainOptions.CRF), beside model.safetensors, under the keys
// CRF's parameters are named by. HF loads the BERT part of such a
// directory and does not read this file.
const CRFFile = "crf.safetensors"

// The CRF parameter names (pytorch-crf's and flair's layout).
const (
	crfTransitions = "crf.transitions"       // (L, L): from label i to label j
	crfStart       = "crf.start_transitions" // (L): a sentence starts with label j
	crfEnd         = "crf.end_transitions"   // (L): a sentence ends with label i
)

// crf is a linear-chain CRF over the classifier's scores of the labelled
// tokens of each window (the first sub-token of every word): a tag
// sequence y of n tokens with emission scores e scores
//
//	s(y) = start[y₁] + Σᵢ e[i][yᵢ] + Σᵢ₌₂ⁿ trans[yᵢ₋₁][yᵢ] + end[yₙ]
//
// and the loss is the negative log-likelihood log Σ_y' exp s(y') − s(y),
// whose normaliser the forward algorithm computes in O(n·L²).
type crf struct {
	trans, start, end *ts.Tensor // leaf parameters, requires grad
}

// newCRF returns a CRF for L labels on dev, initialised uniformly in
// [-0.1, 0.1] from libtorch's generator (as pytorch-crf does).
func newCRF(L int64, dev gotch.Device) (c *crf, err error) {
	defer torchutil.Recover(&err)
	width, low := ts.FloatScalar(0.2), ts.FloatScalar(-0.1)
	defer width.MustDrop()
	defer low.MustDrop()
	init := func(shape []int64) *ts.Tensor {
		u := ts.MustRand(shape, gotch.Float, dev)
		x := u.MustMulScalar(width, true).MustAddScalar(low, true)
		return x.MustSetRequiresGrad(true, true)
	}
	return &crf{trans: init([]int64{L, L}), start: init([]int64{L}), end: init([]int64{L})}, nil
}

// params returns the CRF's parameters under their names.
func (c *crf) params() []bert.Param {
	return []bert.Param{{Name: crfTransitions, Tensor: c.trans}, {Name: crfStart, Tensor: c.start}, {Name: crfEnd, Tensor: c.end}}
}

// drop frees the parameters.
func (c *crf) drop() {
	if c != nil {
		tensors.DropAll(c.trans, c.start, c.end)
	}
}

// crfSequences are the labelled tokens of a batch, gathered per row:
// positions and tags padded to the longest row, a float mask, each row's
// last tag and whether it has any labelled token.
type crfSequences struct {
	b, w     int
	pos, tag []int64   // (B, W) token positions and gold labels (0 where padded)
	mask     []float32 // (B, W)
	last     []int64   // (B) each row's last gold label (0 for an empty row)
	has      []float32 // (B) 1 when the row has a labelled token
	n        int       // labelled tokens in all
}

// crfBatchSequences reads the labelled tokens of a (b × t) label matrix
// (IgnoreLabel elsewhere).
func crfBatchSequences(labels []int64, b, t int) crfSequences {
	rows := make([][]int, b)
	w := 1
	for r := range b {
		for j := range t {
			if labels[r*t+j] >= 0 {
				rows[r] = append(rows[r], j)
			}
		}
		w = max(w, len(rows[r]))
	}
	q := crfSequences{b: b, w: w, pos: make([]int64, b*w), tag: make([]int64, b*w), mask: make([]float32, b*w),
		last: make([]int64, b), has: make([]float32, b)}
	for r, js := range rows {
		for k, j := range js {
			q.pos[r*w+k], q.tag[r*w+k], q.mask[r*w+k] = int64(j), labels[r*t+j], 1
		}
		if len(js) > 0 {
			q.last[r], q.has[r] = labels[r*t+js[len(js)-1]], 1
			q.n += len(js)
		}
	}
	return q
}

// nll returns the mean negative log-likelihood per labelled token of the
// gold sequences q under emission scores logits (B, T, L), as a 0-dim
// tensor the caller owns (attached to the autograd graph). q must have
// at least one labelled token.
func (c *crf) nll(logits *ts.Tensor, q crfSequences) (out *ts.Tensor, err error) {
	defer torchutil.Recover(&err)
	if q.n == 0 {
		return nil, errors.New("ner: crf: no labelled token")
	}
	s := tensors.NewScope()
	defer s.Drop()
	dev := logits.MustDevice()
	L := logits.MustSize()[2]
	B, W := int64(q.b), int64(q.w)
	pos, err := tensors.FromInt64s(q.pos, []int64{B, W}, dev)
	if err != nil {
		return nil, err
	}
	s.Add(pos)
	tag, err := tensors.FromInt64s(q.tag, []int64{B, W}, dev)
	if err != nil {
		return nil, err
	}
	s.Add(tag)
	mask, err := tensors.FromFloat32s(q.mask, []int64{B, W}, dev)
	if err != nil {
		return nil, err
	}
	s.Add(mask)
	last, err := tensors.FromInt64s(q.last, []int64{B}, dev)
	if err != nil {
		return nil, err
	}
	s.Add(last)
	has, err := tensors.FromFloat32s(q.has, []int64{B}, dev)
	if err != nil {
		return nil, err
	}
	s.Add(has)

	// Emissions of the labelled tokens: (B, W, L).
	idx := s.Add(s.Add(pos.MustUnsqueeze(-1, false)).MustExpand([]int64{B, W, L}, false, false))
	e := s.Add(logits.MustGather(1, idx, false, false))

	// Forward algorithm: alpha (B, L) holds log Σ exp of the scores of all
	// prefixes ending in each label; padded steps keep it unchanged.
	alpha := s.Add(s.Add(e.MustSelect(1, 0, false)).MustAdd(s.Add(c.start.MustUnsqueeze(0, false)), false))
	transB := s.Add(c.trans.MustUnsqueeze(0, false)) // (1, L, L)
	one, minus := ts.FloatScalar(1), ts.FloatScalar(-1)
	defer one.MustDrop()
	defer minus.MustDrop()
	unmask := s.Add(s.Add(mask.MustMulScalar(minus, false)).MustAddScalar(one, false)) // (B, W): 1 on padding
	for i := int64(1); i < W; i++ {
		ei := s.Add(s.Add(e.MustSelect(1, i, false)).MustUnsqueeze(1, false))                              // (B, 1, L)
		sc := s.Add(s.Add(s.Add(alpha.MustUnsqueeze(2, false)).MustAdd(transB, false)).MustAdd(ei, false)) // (B, L, L)
		next := s.Add(sc.MustLogsumexp([]int64{1}, false, false))                                          // (B, L)
		m := s.Add(s.Add(mask.MustSelect(1, i, false)).MustUnsqueeze(1, false))                            // (B, 1)
		keep := s.Add(s.Add(unmask.MustSelect(1, i, false)).MustUnsqueeze(1, false))                       // (B, 1)
		alpha = s.Add(s.Add(next.MustMul(m, false)).MustAdd(s.Add(alpha.MustMul(keep, false)), false))
	}
	logZ := s.Add(s.Add(alpha.MustAdd(s.Add(c.end.MustUnsqueeze(0, false)), false)).MustLogsumexp([]int64{1}, false, false)) // (B)

	// Gold score: emissions, start, transitions between labelled tokens, end.
	emit := s.Add(s.Add(s.Add(e.MustGather(2, s.Add(tag.MustUnsqueeze(-1, false)), false, false)).MustSqueezeDim(-1, false)).MustMul(mask, false))
	gold := s.Add(emit.MustSumDimIntlist([]int64{1}, false, gotch.Float, false)) // (B)
	first := s.Add(tag.MustSelect(1, 0, false))
	gold = s.Add(gold.MustAdd(s.Add(c.start.MustIndexSelect(0, first, false)), false))
	if W > 1 {
		prev := s.Add(tag.MustNarrow(1, 0, W-1, false))
		cur := s.Add(tag.MustNarrow(1, 1, W-1, false))
		nl := ts.IntScalar(L)
		defer nl.MustDrop()
		flat := s.Add(s.Add(s.Add(prev.MustMulScalar(nl, false)).MustAdd(cur, false)).MustView([]int64{-1}, false))
		tr := s.Add(s.Add(s.Add(c.trans.MustView([]int64{-1}, false)).MustIndexSelect(0, flat, false)).MustView([]int64{B, W - 1}, false))
		tr = s.Add(tr.MustMul(s.Add(mask.MustNarrow(1, 1, W-1, false)), false))
		gold = s.Add(gold.MustAdd(s.Add(tr.MustSumDimIntlist([]int64{1}, false, gotch.Float, false)), false))
	}
	gold = s.Add(gold.MustAdd(s.Add(c.end.MustIndexSelect(0, last, false)), false))

	per := s.Add(s.Add(logZ.MustSub(gold, false)).MustMul(has, false)) // (B); empty rows count 0
	n := ts.FloatScalar(float64(q.n))
	defer n.MustDrop()
	return s.Add(per.MustSum(gotch.Float, false)).MustDivScalar(n, false), nil
}

// crfWeights are a CRF's parameters on the host, for decoding.
type crfWeights struct {
	trans      [][]float64
	start, end []float64
}

// hostWeights copies the parameters to the host.
func (c *crf) hostWeights() (*crfWeights, error) {
	t, err := tensors.Float32s(c.trans)
	if err != nil {
		return nil, err
	}
	st, err := tensors.Float32s(c.start)
	if err != nil {
		return nil, err
	}
	en, err := tensors.Float32s(c.end)
	if err != nil {
		return nil, err
	}
	return newCRFWeights(t, st, en)
}

// newCRFWeights checks the shapes (trans L×L, start and end L).
func newCRFWeights(trans, start, end []float32) (*crfWeights, error) {
	L := len(start)
	if L == 0 || len(end) != L || len(trans) != L*L {
		return nil, fmt.Errorf("ner: crf: %d transitions, %d start and %d end scores: want L×L, L and L", len(trans), len(start), len(end))
	}
	w := &crfWeights{trans: make([][]float64, L), start: make([]float64, L), end: make([]float64, L)}
	for i := range L {
		w.start[i], w.end[i] = float64(start[i]), float64(end[i])
		w.trans[i] = make([]float64, L)
		for j := range L {
			w.trans[i][j] = float64(trans[i*L+j])
		}
	}
	return w, nil
}

// saveCRF writes the parameters to dir's CRFFile atomically (float32).
func saveCRF(dir string, c *crf) error {
	m := map[string]safetensors.Tensor{}
	for _, p := range c.params() {
		v, err := tensors.Float32s(p.Tensor)
		if err != nil {
			return fmt.Errorf("ner: save %s: %w", CRFFile, err)
		}
		t, err := safetensors.FromFloat32s(safetensors.F32, p.Tensor.MustSize(), v)
		if err != nil {
			return fmt.Errorf("ner: save %s: %s: %w", CRFFile, p.Name, err)
		}
		m[p.Name] = t
	}
	b, err := safetensors.Marshal(m, map[string]string{"format": "pt"})
	if err != nil {
		return fmt.Errorf("ner: save %s: %w", CRFFile, err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, CRFFile), b); err != nil {
		return fmt.Errorf("ner: save %s: %w", CRFFile, err)
	}
	return nil
}

// readCRF reads dir's CRFFile for L labels; (nil, nil) when there is none.
func readCRF(dir string, L int) (map[string][]float32, error) {
	path := filepath.Join(dir, CRFFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	w, _, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ner: read %s: %w", path, err)
	}
	out := map[string][]float32{}
	for _, k := range []struct {
		name string
		n    int
	}{{crfTransitions, L * L}, {crfStart, L}, {crfEnd, L}} { // a fixed order: the first error is always the same
		name, n := k.name, k.n
		t, ok := w[name]
		if !ok {
			return nil, fmt.Errorf("ner: read %s: no %q", path, name)
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("ner: read %s: %q: %w", path, name, err)
		}
		if len(v) != n {
			return nil, fmt.Errorf("ner: read %s: %q has %d values, want %d (%d labels)", path, name, len(v), n, L)
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("ner: read %s: %q holds a non-finite value", path, name)
			}
		}
		out[name] = v
	}
	return out, nil
}

// loadCRFWeights reads dir's CRF for decoding; nil when there is none.
func loadCRFWeights(dir string, L int) (*crfWeights, error) {
	v, err := readCRF(dir, L)
	if err != nil || v == nil {
		return nil, err
	}
	return newCRFWeights(v[crfTransitions], v[crfStart], v[crfEnd])
}

// loadCRF reads dir's CRF as trainable parameters on dev (resume).
func loadCRF(dir string, L int, dev gotch.Device) (c *crf, err error) {
	defer torchutil.Recover(&err)
	v, err := readCRF(dir, L)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("ner: %s has no %s: the run was not trained with a CRF", dir, CRFFile)
	}
	mk := func(name string, shape []int64) (*ts.Tensor, error) {
		x, err := tensors.FromFloat32s(v[name], shape, dev)
		if err != nil {
			return nil, err
		}
		return x.MustSetRequiresGrad(true, true), nil
	}
	c = &crf{}
	l := int64(L)
	if c.trans, err = mk(crfTransitions, []int64{l, l}); err != nil {
		return nil, err
	}
	if c.start, err = mk(crfStart, []int64{l}); err != nil {
		return nil, err
	}
	if c.end, err = mk(crfEnd, []int64{l}); err != nil {
		return nil, err
	}
	return c, nil
}
