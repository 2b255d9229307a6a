package bert

import (
	"fmt"
	"runtime"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// IgnoreIndex is the label value the losses skip (PyTorch's default -100).
const IgnoreIndex = -100

// ForMaskedLM is transformers' BertForMaskedLM: BertModel without pooler
// under "bert.", then BertOnlyMLMHead "cls.predictions": transform (dense,
// hidden_act, LayerNorm), decoder tied to the word embeddings, bias
// "cls.predictions.bias".
type ForMaskedLM struct {
	Bert      *Model
	transform linear
	act       func(*ts.Tensor) *ts.Tensor
	ln        layerNorm
	bias      *ts.Tensor
	params    []Param
}

// NewForMaskedLM returns a freshly initialised BertForMaskedLM on dev.
func NewForMaskedLM(c *Config, dev gotch.Device) (m *ForMaskedLM, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	defer torchutil.Recover(&err)
	c = c.Clone()
	b := &builder{vs: nn.NewVarStore(dev), std: c.InitializerRange}
	err = torchutil.NoGrad(func() error {
		root := key("")
		m = &ForMaskedLM{Bert: newModel(b, root.sub("bert"), c, false)}
		p := root.sub("cls").sub("predictions")
		h := int64(c.HiddenSize)
		m.transform = newLinear(b, p.sub("transform").sub("dense"), h, h)
		m.act = activations[c.HiddenAct]
		m.ln = newLayerNorm(b, p.sub("transform").sub("LayerNorm"), h, c.LayerNormEps)
		m.bias = b.zeros(p, "bias", int64(c.VocabSize))
		return b.err
	})
	if err != nil {
		return nil, err
	}
	m.params = b.params
	m.Bert.params = b.params[:len(b.params)-5] // the encoder's own, "bert."-prefixed
	return m, nil
}

// predict maps hidden states (..., H) to float32 vocabulary logits (..., V);
// under autocast the dense layers compute in ac's dtype, the LayerNorm in
// float32, and the logits are cast back to float32.
func (m *ForMaskedLM) predict(ac *autocast, h *ts.Tensor) *ts.Tensor {
	s := tensors.NewScope()
	defer s.Drop()
	x := s.Add(m.ln.forward(s.Add(m.act(s.Add(m.transform.forward(ac, h))))))
	decoder := linear{w: m.Bert.emb.word, b: m.bias} // decoder.weight is word_embeddings.weight
	return fp32(s, s.Add(decoder.forward(ac, x))).MustShallowClone()
}

// Forward returns MLM logits (B, T, V); the caller owns them. Without train
// it runs under no-grad (see Model.Forward).
func (m *ForMaskedLM) Forward(in Inputs, train bool) (out *ts.Tensor, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !train { // inference: no autograd graph
		defer torchutil.SetGradEnabled(torchutil.SetGradEnabled(false))
	}
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	ids, mask, types, err := m.Bert.checkInputs(s, in)
	if err != nil {
		return nil, err
	}
	ac := newAutocast(m.Bert.Precision(), s)
	return m.predict(ac, s.Add(m.Bert.encode(ac, ids, mask, types, train))), nil
}

// Loss returns the mean cross-entropy over positions whose label is not
// IgnoreIndex (a scalar the caller owns), as BertForMaskedLM computes it.
// labels is (B, T) int64. Only the labelled positions go through the
// vocabulary projection (index_select on the flattened hidden states), which
// gives the same value as projecting every position. With no labelled
// position the mean is NaN, as in PyTorch.
func (m *ForMaskedLM) Loss(in Inputs, labels *ts.Tensor, train bool) (out *ts.Tensor, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	ids, mask, types, err := m.Bert.checkInputs(s, in)
	if err != nil {
		return nil, err
	}
	y, err := checkLabels(s, labels, ids, m.Bert.dev, int64(m.Bert.cfg.VocabSize))
	if err != nil {
		return nil, err
	}
	yf := s.Add(y.MustView([]int64{-1}, false))                                          // (B·T)
	keep := s.Add(s.Add(yf.MustNe(ts.IntScalar(IgnoreIndex), false)).MustNonzero(false)) // (N, 1)
	keep = s.Add(keep.MustView([]int64{-1}, false))                                      // (N)
	ys := s.Add(yf.MustIndexSelect(0, keep, false))                                      // (N)
	return m.lossAt(s, ids, mask, types, keep, ys, train), nil
}

// lossAt is the mean cross-entropy of the vocabulary logits at the flat
// positions keep (N) against ys (N), all on the model's device.
func (m *ForMaskedLM) lossAt(s *tensors.Scope, ids, mask, types, keep, ys *ts.Tensor, train bool) *ts.Tensor {
	ac := newAutocast(m.Bert.Precision(), s)
	h := s.Add(m.Bert.encode(ac, ids, mask, types, train))
	hs := h.MustSize()
	flat := s.Add(h.MustView([]int64{-1, hs[2]}, false)) // (B·T, H)
	sel := s.Add(flat.MustIndexSelect(0, keep, false))   // (N, H)
	logits := s.Add(m.predict(ac, sel))                  // (N, V) float32
	return logits.MustCrossEntropyLoss(ys, ts.None, 1, IgnoreIndex, 0, false)
}

// LossAt is Loss with the labelled positions given instead of found:
// positions (N) int64 holds the flat indices b·T+t of the labelled tokens of
// the (B, T) batch and labels (N) int64 their label ids (no IgnoreIndex
// needed). Only those rows go through the vocabulary projection
// (index_select), and nothing is read back from the device: Loss finds the
// positions with nonzero, whose output size the host must wait for on CUDA,
// while callers that build batches on the host (pretrain's Batch.
// MaskedPositions) already know them. With N = 0 the mean is NaN.
//
// As in checkLabels, positions and label values are range-checked only when
// they are CPU tensors; the model's device gets copies.
func (m *ForMaskedLM) LossAt(in Inputs, positions, labels *ts.Tensor, train bool) (out *ts.Tensor, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	ids, mask, types, err := m.Bert.checkInputs(s, in)
	if err != nil {
		return nil, err
	}
	is := ids.MustSize()
	pos, err := checkIndex(s, "positions", positions, -1, is[0]*is[1], m.Bert.dev)
	if err != nil {
		return nil, err
	}
	ys, err := checkIndex(s, "labels", labels, pos.MustSize()[0], int64(m.Bert.cfg.VocabSize), m.Bert.dev)
	if err != nil {
		return nil, err
	}
	return m.lossAt(s, ids, mask, types, pos, ys, train), nil
}

// checkIndex validates a 1-D int64 tensor of n values (n < 0: any length)
// in [0, limit) (checked on CPU tensors only) and returns it on dev, owned
// by s.
func checkIndex(s *tensors.Scope, name string, t *ts.Tensor, n, limit int64, dev gotch.Device) (*ts.Tensor, error) {
	if t == nil {
		return nil, fmt.Errorf("bert: %s are nil", name)
	}
	if t.DType() != gotch.Int64 {
		return nil, fmt.Errorf("bert: %s dtype %v, want int64", name, t.DType())
	}
	sh, err := t.Size()
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", name, err)
	}
	if len(sh) != 1 || (n >= 0 && sh[0] != n) {
		want := "(N)"
		if n >= 0 {
			want = fmt.Sprintf("(%d) like positions", n)
		}
		return nil, fmt.Errorf("bert: %s shape %v, want %s", name, sh, want)
	}
	tdev, err := t.Device()
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", name, err)
	}
	if !tdev.IsCuda() && sh[0] > 0 {
		lo := s.Add(t.MustMin(false))
		hi := s.Add(t.MustMax(false))
		l, h := lo.MustInt64Value([]int64{}), hi.MustInt64Value([]int64{})
		if l < 0 || h >= limit {
			return nil, fmt.Errorf("bert: %s outside [0, %d) (found %d..%d)", name, limit, l, h)
		}
	}
	y, err := t.To(dev, false)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", name, err)
	}
	return s.Add(y), nil
}

// checkLabels validates (B, T) int64 labels against ids and moves them to dev.
//
// The value check (every label is IgnoreIndex or in [0, n)) runs only when
// labels are on the CPU, where reading the minimum and maximum back is free.
// For labels already on a CUDA device it is skipped: reading a device value
// would make the host wait for every queued kernel on each call. CUDA callers
// validate labels on the host when they build a batch (the ner and pretrain
// batchers build labels from Go slices); an out-of-range label on CUDA then
// surfaces as libtorch's device-side assertion in the loss.
func checkLabels(s *tensors.Scope, labels, ids *ts.Tensor, dev gotch.Device, n int64) (*ts.Tensor, error) {
	if labels == nil {
		return nil, fmt.Errorf("bert: labels are nil")
	}
	if labels.DType() != gotch.Int64 {
		return nil, fmt.Errorf("bert: labels dtype %v, want int64", labels.DType())
	}
	ls, err := labels.Size()
	if err != nil {
		return nil, fmt.Errorf("bert: labels: %w", err)
	}
	is := ids.MustSize()
	if len(ls) != 2 || ls[0] != is[0] || ls[1] != is[1] {
		return nil, fmt.Errorf("bert: labels shape %v, want %v like input_ids", ls, is)
	}
	ldev, err := labels.Device()
	if err != nil {
		return nil, fmt.Errorf("bert: labels: %w", err)
	}
	if !ldev.IsCuda() {
		// every label is IgnoreIndex or in [0, n)
		ign := s.Add(labels.MustEq(ts.IntScalar(IgnoreIndex), false))
		lo := s.Add(s.Add(labels.MustWhereScalarother(s.Add(ign.MustLogicalNot(false)), ts.IntScalar(0), false)).MustMin(false))
		hi := s.Add(labels.MustMax(false))
		l, h := lo.MustInt64Value([]int64{}), hi.MustInt64Value([]int64{})
		if l < 0 || h >= n {
			return nil, fmt.Errorf("bert: labels outside [0, %d) and not %d (found %d..%d)", n, IgnoreIndex, l, h)
		}
	}
	y, err := labels.To(dev, false)
	if err != nil {
		return nil, fmt.Errorf("bert: labels: %w", err)
	}
	return s.Add(y), nil
}

// Config returns the configuration.
func (m *ForMaskedLM) Config() *Config { return m.Bert.cfg }

// VarStore returns the variable store.
func (m *ForMaskedLM) VarStore() *nn.VarStore { return m.Bert.vs }

// Device returns the parameters' device.
func (m *ForMaskedLM) Device() gotch.Device { return m.Bert.dev }

// Parameters returns all parameters with HF keys in state-dict order. The
// decoder weight is the word embedding and is not listed twice.
func (m *ForMaskedLM) Parameters() []Param { return append([]Param(nil), m.params...) }

// ForTokenClassification is transformers' BertForTokenClassification:
// BertModel without pooler under "bert.", dropout (classifier_dropout, else
// hidden_dropout_prob) and a linear "classifier" to num_labels.
type ForTokenClassification struct {
	Bert       *Model
	classifier linear
	p          float64
	labels     []string
	params     []Param
}

// NewForTokenClassification returns a freshly initialised model whose labels
// are c's id2label (HF's LABEL_0, LABEL_1 when absent).
func NewForTokenClassification(c *Config, dev gotch.Device) (m *ForTokenClassification, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	labels, err := c.Labels()
	if err != nil {
		return nil, err
	}
	defer torchutil.Recover(&err)
	c = c.Clone()
	if err := c.SetLabels(labels); err != nil {
		return nil, err
	}
	b := &builder{vs: nn.NewVarStore(dev), std: c.InitializerRange}
	err = torchutil.NoGrad(func() error {
		root := key("")
		m = &ForTokenClassification{Bert: newModel(b, root.sub("bert"), c, false), labels: labels}
		m.classifier = newLinear(b, root.sub("classifier"), int64(c.HiddenSize), int64(len(labels)))
		return b.err
	})
	if err != nil {
		return nil, err
	}
	m.p = c.HiddenDropoutProb
	if c.ClassifierDropout != nil {
		m.p = *c.ClassifierDropout
	}
	m.params = b.params
	m.Bert.params = b.params[:len(b.params)-2]
	return m, nil
}

func (m *ForTokenClassification) logits(s *tensors.Scope, in Inputs, train bool) (*ts.Tensor, *ts.Tensor, error) {
	ids, mask, types, err := m.Bert.checkInputs(s, in)
	if err != nil {
		return nil, nil, err
	}
	ac := newAutocast(m.Bert.Precision(), s)
	h := s.Add(m.Bert.encode(ac, ids, mask, types, train))
	h = dropout(s, h, m.p, train)
	return fp32(s, s.Add(m.classifier.forward(ac, h))).MustShallowClone(), ids, nil // (B, T, L) float32
}

// Forward returns token-classification logits (B, T, L); the caller owns
// them. Without train it runs under no-grad (see Model.Forward).
func (m *ForTokenClassification) Forward(in Inputs, train bool) (out *ts.Tensor, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !train { // inference: no autograd graph
		defer torchutil.SetGradEnabled(torchutil.SetGradEnabled(false))
	}
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	out, _, err = m.logits(s, in, train)
	return out, err
}

// Loss returns the cross-entropy over tokens whose label is not IgnoreIndex:
// with classWeights w (nil = none, else one weight per label)
// Σ w[yᵢ]·CEᵢ / Σ w[yᵢ], PyTorch's weighted mean; without, the plain mean as
// in BertForTokenClassification. The caller owns the scalar.
func (m *ForTokenClassification) Loss(in Inputs, labels *ts.Tensor, train bool, classWeights []float64) (out *ts.Tensor, err error) {
	if classWeights != nil && len(classWeights) != len(m.labels) {
		return nil, fmt.Errorf("bert: %d class weights for %d labels", len(classWeights), len(m.labels))
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	logits, ids, err := m.logits(s, in, train)
	if err != nil {
		return nil, err
	}
	s.Add(logits)
	y, err := checkLabels(s, labels, ids, m.Bert.dev, int64(len(m.labels)))
	if err != nil {
		return nil, err
	}
	w := ts.None
	if classWeights != nil {
		f := make([]float32, len(classWeights))
		for i, v := range classWeights {
			if v < 0 {
				return nil, fmt.Errorf("bert: class weight %d is negative (%g)", i, v)
			}
			f[i] = float32(v)
		}
		wt, err := tensors.FromFloat32s(f, []int64{int64(len(f))}, m.Bert.dev)
		if err != nil {
			return nil, err
		}
		w = s.Add(wt)
	}
	flat := s.Add(logits.MustView([]int64{-1, int64(len(m.labels))}, false)) // (B·T, L)
	yf := s.Add(y.MustView([]int64{-1}, false))                              // (B·T)
	return flat.MustCrossEntropyLoss(yf, w, 1, IgnoreIndex, 0, false), nil
}

// Labels returns the label of each class id.
func (m *ForTokenClassification) Labels() []string { return append([]string(nil), m.labels...) }

// Config returns the configuration (id2label set to Labels).
func (m *ForTokenClassification) Config() *Config { return m.Bert.cfg }

// VarStore returns the variable store.
func (m *ForTokenClassification) VarStore() *nn.VarStore { return m.Bert.vs }

// Device returns the parameters' device.
func (m *ForTokenClassification) Device() gotch.Device { return m.Bert.dev }

// Parameters returns all parameters with HF keys in state-dict order.
func (m *ForTokenClassification) Parameters() []Param { return append([]Param(nil), m.params...) }
