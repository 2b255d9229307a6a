package bert

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// hfBert is the HF source the types below mirror (the BERT eager path is
// the same throughout transformers v4.x).
const hfBert = "https://github.com/huggingface/transformers/blob/v4.46.3/src/transformers/models/bert/modeling_bert.py"

// modelDType is the one place the parameter dtype is chosen: float32, for
// every precision. The compute dtype of a forward pass is
// Precision.dtype() (modelDType for fp32, bfloat16 for bf16, float16 for fp16), applied by
// autocast (precision.go).
var modelDType = gotch.Float

// Inputs is one batch: (B, T) int64 tensors on any device (they are moved
// to the model's device). AttentionMask (1 = attend, 0 = padding) and
// TokenTypeIDs may be nil: all ones and all zeros, as in HF. The values of
// CPU tensors are checked (ids below vocab_size, types below
// type_vocab_size); those of CUDA tensors are not, since reading them back
// would make every forward pass wait for the GPU.
type Inputs struct {
	InputIDs      *ts.Tensor
	AttentionMask *ts.Tensor
	TokenTypeIDs  *ts.Tensor
}

// Param is one named parameter; Name is the HF state-dict key.
type Param struct {
	Name   string
	Tensor *ts.Tensor
}

// Attention selects the attention kernel.
type Attention int

const (
	// AttentionAuto uses SDPA when the linked libtorch has it (≥ 2.0),
	// else the manual path. Probed once per model.
	AttentionAuto Attention = iota
	// AttentionManual is matmul → scale → add mask → softmax → dropout → matmul.
	AttentionManual
	// AttentionSDPA is libtorch's fused scaled_dot_product_attention.
	AttentionSDPA
)

// activations maps hidden_act to libtorch ops (HF ACT2FN).
var activations = map[string]func(x *ts.Tensor) *ts.Tensor{
	"gelu":     func(x *ts.Tensor) *ts.Tensor { return x.MustGelu("none", false) }, // erf form
	"gelu_new": func(x *ts.Tensor) *ts.Tensor { return x.MustGelu("tanh", false) }, // 0.5x(1+tanh(√(2/π)(x+0.044715x³)))
	"relu":     func(x *ts.Tensor) *ts.Tensor { return x.MustRelu(false) },
}

// builder creates parameters under HF names with HF's initialisation
// (_init_weights: normal(0, initializer_range) weights, zero biases,
// LayerNorm 1/0, zero padding row) and records them in creation order.
type builder struct {
	vs     *nn.VarStore
	std    float64
	params []Param
	err    error
}

func (b *builder) add(p key, name string, shape []int64, init func(t *ts.Tensor) error) *ts.Tensor {
	if b.err != nil {
		return nil
	}
	full := string(p.sub(name))
	// A fresh nn.Path chain per variable: gotch's Path.Sub appends to the
	// parent's slice, so sibling paths built from one parent can overwrite
	// each other's elements.
	vp := b.vs.Root()
	for _, part := range strings.Split(string(p), ".") {
		if part != "" {
			vp = vp.Sub(part)
		}
	}
	x, err := ts.Zeros(shape, modelDType, b.vs.Device())
	if err == nil {
		err = init(x)
	}
	var v *ts.Tensor
	if err == nil {
		v, err = vp.Add(name, x, true)
	}
	if x != nil {
		x.MustDrop()
	}
	if err != nil {
		b.err = fmt.Errorf("bert: create %s: %w", full, err)
		return nil
	}
	b.params = append(b.params, Param{Name: full, Tensor: v})
	return v
}

// key is a dotted HF parameter-key prefix ("" at the root).
type key string

func (k key) sub(s string) key {
	if k == "" {
		return key(s)
	}
	return k + "." + key(s)
}

func (b *builder) normal(p key, name string, shape ...int64) *ts.Tensor {
	return b.add(p, name, shape, func(t *ts.Tensor) error { return t.Normal_(0, b.std) })
}
func (b *builder) zeros(p key, name string, shape ...int64) *ts.Tensor {
	return b.add(p, name, shape, func(*ts.Tensor) error { return nil })
}
func (b *builder) ones(p key, name string, shape ...int64) *ts.Tensor {
	return b.add(p, name, shape, func(t *ts.Tensor) error { return t.Fill_(ts.FloatScalar(1)) })
}

// linear is nn.Linear: y = x Wᵀ + b, W (out, in).
type linear struct{ w, b *ts.Tensor }

func newLinear(b *builder, p key, in, out int64) linear {
	return linear{w: b.normal(p, "weight", out, in), b: b.zeros(p, "bias", out)}
}

// forward computes in a's dtype (weights cast once per pass, x cast when
// needed); without autocast in float32.
func (l linear) forward(a *autocast, x *ts.Tensor) *ts.Tensor {
	if !a.on() {
		return ts.MustLinear(x, l.w, l.b)
	}
	if x.DType() != a.dt {
		xc := x.MustTotype(a.dt, false)
		defer xc.MustDrop()
		x = xc
	}
	return ts.MustLinear(x, a.param(l.w), a.param(l.b))
}

// layerNorm is nn.LayerNorm over the last dimension.
type layerNorm struct {
	w, b *ts.Tensor
	eps  float64
	dim  int64
}

func newLayerNorm(b *builder, p key, dim int64, eps float64) layerNorm {
	return layerNorm{w: b.ones(p, "weight", dim), b: b.zeros(p, "bias", dim), eps: eps, dim: dim}
}

// forward runs in float32 whatever x's dtype (as under torch.autocast).
func (l layerNorm) forward(x *ts.Tensor) *ts.Tensor {
	if x.DType() != modelDType {
		x32 := x.MustTotype(modelDType, false)
		defer x32.MustDrop()
		x = x32
	}
	return ts.MustLayerNorm(x, []int64{l.dim}, l.w, l.b, l.eps, false)
}

func dropout(s *tensors.Scope, x *ts.Tensor, p float64, train bool) *ts.Tensor {
	if !train || p == 0 {
		return x
	}
	return s.Add(ts.MustDropout(x, p, true))
}

// embeddings is BertEmbeddings: LayerNorm(word + position + token_type), dropout.
type embeddings struct {
	word, position, tokenType *ts.Tensor
	ln                        layerNorm
	pad                       int64
	p                         float64
}

func newEmbeddings(b *builder, p key, c *Config) *embeddings {
	h := int64(c.HiddenSize)
	e := &embeddings{
		word:      b.normal(p.sub("word_embeddings"), "weight", int64(c.VocabSize), h),
		position:  b.normal(p.sub("position_embeddings"), "weight", int64(c.MaxPositionEmbeddings), h),
		tokenType: b.normal(p.sub("token_type_embeddings"), "weight", int64(c.TypeVocabSize), h),
		ln:        newLayerNorm(b, p.sub("LayerNorm"), h, c.LayerNormEps),
		pad:       int64(c.PadTokenID),
		p:         c.HiddenDropoutProb,
	}
	if b.err == nil { // nn.Embedding(padding_idx) zeroes that row at init
		row, err := e.word.Narrow(0, e.pad, 1, false)
		if err == nil {
			err = row.Zero_()
			row.MustDrop()
		}
		if err != nil {
			b.err = fmt.Errorf("bert: zero padding row: %w", err)
		}
	}
	return e
}

// forward: ids, types (B, T) int64 → (B, T, H).
func (e *embeddings) forward(ids, types *ts.Tensor, train bool) *ts.Tensor {
	s := tensors.NewScope()
	defer s.Drop()
	t := ids.MustSize()[1]
	pos := s.Add(ts.MustArange(ts.IntScalar(t), gotch.Int64, e.word.MustDevice())) // (T)
	// padding_idx only changes the gradient: that row gets none, as in HF.
	x := s.Add(ts.MustEmbedding(e.word, ids, e.pad, false, false))
	x = s.Add(x.MustAdd(s.Add(ts.MustEmbedding(e.tokenType, types, -1, false, false)), false))
	x = s.Add(x.MustAdd(s.Add(ts.MustEmbedding(e.position, pos, -1, false, false)), false)) // (T, H) broadcasts
	x = s.Add(e.ln.forward(x))
	x = dropout(s, x, e.p, train)
	return x.MustShallowClone()
}

// selfAttention is BertSelfAttention (+ BertSelfOutput as out/ln).
type selfAttention struct {
	q, k, v, out linear
	ln           layerNorm
	heads, dh    int64
	pAttn, pHid  float64
	fused        bool // one (3H, H) projection for q, k, v (see qkv)
}

// forward: x (B, T, H), mask (B, 1, 1, T) additive → (B, T, H). Under
// autocast the projections and matmuls run in ac's dtype; the scores are
// promoted to float32 by the float32 mask (manual path), so softmax runs in
// float32, as in HF under torch.autocast.
func (a *selfAttention) forward(ac *autocast, x, mask *ts.Tensor, train, sdpa bool) *ts.Tensor {
	s := tensors.NewScope()
	defer s.Drop()
	sz := x.MustSize()
	bsz, t := sz[0], sz[1]
	split := func(y *ts.Tensor) *ts.Tensor { // (B, T, H) → (B, heads, T, dh)
		return s.Add(s.Add(y.MustView([]int64{bsz, t, a.heads, a.dh}, false)).MustTranspose(1, 2, false))
	}
	var q, k, v *ts.Tensor
	if a.fused {
		q, k, v = a.qkv(ac, s, x)
	} else {
		q, k, v = s.Add(a.q.forward(ac, x)), s.Add(a.k.forward(ac, x)), s.Add(a.v.forward(ac, x))
	}
	q, k, v = split(q), split(k), split(v)
	var ctx *ts.Tensor
	if sdpa {
		p := 0.0
		if train {
			p = a.pAttn
		}
		ctx = s.Add(ts.MustScaledDotProductAttention(q, k, v, mask, p, false, nil)) // (B, heads, T, dh)
	} else {
		scores := s.Add(q.MustMatmul(s.Add(k.MustTranspose(-1, -2, false)), false)) // (B, heads, T, T)
		scores = s.Add(scores.MustDivScalar(ts.FloatScalar(math.Sqrt(float64(a.dh))), false))
		scores = s.Add(scores.MustAdd(mask, false)) // mask (B, 1, 1, T) broadcasts
		probs := s.Add(scores.MustSoftmax(-1, scores.DType(), false))
		probs = dropout(s, probs, a.pAttn, train)
		ctx = s.Add(ac.low(s, probs).MustMatmul(v, false)) // (B, heads, T, dh)
	}
	ctx = s.Add(ctx.MustTranspose(1, 2, false))                       // (B, T, heads, dh)
	ctx = s.Add(ctx.MustContiguous(false))                            //
	ctx = s.Add(ctx.MustView([]int64{bsz, t, a.heads * a.dh}, false)) // (B, T, H)
	h := dropout(s, s.Add(a.out.forward(ac, ctx)), a.pHid, train)     // BertSelfOutput
	return a.ln.forward(s.Add(h.MustAdd(x, false)))                   // LayerNorm(h + x), float32 (x is)
}

// qkv computes query, key and value, each (B, T, H), with one matmul
// against the concatenated weights [Wq; Wk; Wv] (3H, H) and biases. The
// parameters stay the three HF tensors (so checkpoints and optimizer state
// are unchanged); the concatenation is part of the graph, so backward
// splits the (3H, H) weight gradient back into the three. The output is
// chunked along its last dimension (views; chunk's backward is one cat).
// Under autocast the weights are cast first (cached per pass), then
// concatenated.
func (a *selfAttention) qkv(ac *autocast, s *tensors.Scope, x *ts.Tensor) (q, k, v *ts.Tensor) {
	w := s.Add(ts.MustCat([]*ts.Tensor{ac.param(a.q.w), ac.param(a.k.w), ac.param(a.v.w)}, 0))
	b := s.Add(ts.MustCat([]*ts.Tensor{ac.param(a.q.b), ac.param(a.k.b), ac.param(a.v.b)}, 0))
	y := s.Add(ts.MustLinear(ac.low(s, x), w, b)) // (B, T, 3H)
	parts := y.MustChunk(3, -1, false)
	for _, p := range parts {
		s.Add(p)
	}
	return parts[0], parts[1], parts[2]
}

// layer is BertLayer: attention, intermediate (dense + act), output (dense,
// dropout, LayerNorm with residual).
type layer struct {
	attn  selfAttention
	inter linear
	act   func(*ts.Tensor) *ts.Tensor
	out   linear
	outLN layerNorm
	pHid  float64
}

func newLayer(b *builder, p key, c *Config) *layer {
	h, i := int64(c.HiddenSize), int64(c.IntermediateSize)
	ap := p.sub("attention")
	sp := ap.sub("self")
	op := ap.sub("output")
	heads := int64(c.NumAttentionHeads)
	return &layer{
		attn: selfAttention{
			q: newLinear(b, sp.sub("query"), h, h), k: newLinear(b, sp.sub("key"), h, h), v: newLinear(b, sp.sub("value"), h, h),
			out: newLinear(b, op.sub("dense"), h, h), ln: newLayerNorm(b, op.sub("LayerNorm"), h, c.LayerNormEps),
			heads: heads, dh: h / heads, pAttn: c.AttentionProbsDropoutProb, pHid: c.HiddenDropoutProb,
		},
		inter: newLinear(b, p.sub("intermediate").sub("dense"), h, i),
		act:   activations[c.HiddenAct],
		out:   newLinear(b, p.sub("output").sub("dense"), i, h),
		outLN: newLayerNorm(b, p.sub("output").sub("LayerNorm"), h, c.LayerNormEps),
		pHid:  c.HiddenDropoutProb,
	}
}

func (l *layer) forward(ac *autocast, x, mask *ts.Tensor, train, sdpa bool) *ts.Tensor {
	s := tensors.NewScope()
	defer s.Drop()
	a := s.Add(l.attn.forward(ac, x, mask, train, sdpa))
	i := s.Add(l.act(s.Add(l.inter.forward(ac, a))))
	o := dropout(s, s.Add(l.out.forward(ac, i)), l.pHid, train)
	return l.outLN.forward(s.Add(o.MustAdd(a, false)))
}

// Model is transformers' BertModel: embeddings, encoder and (optionally)
// pooler. Inside a head its keys carry the "bert." prefix.
type Model struct {
	cfg    *Config
	vs     *nn.VarStore
	dev    gotch.Device
	params []Param
	emb    *embeddings
	layers []*layer
	pooler *linear // nil in heads, which build BertModel(add_pooling_layer=False)
	prefix string
	attn   Attention
	sdpaOK bool
	probed bool
	prec   Precision // "" is DefaultPrecision
}

// newModel builds the encoder under p; pooler selects BertPooler.
func newModel(b *builder, p key, c *Config, pooler bool) *Model {
	m := &Model{cfg: c, vs: b.vs, dev: b.vs.Device()}
	m.emb = newEmbeddings(b, p.sub("embeddings"), c)
	enc := p.sub("encoder").sub("layer")
	for i := 0; i < c.NumHiddenLayers; i++ {
		m.layers = append(m.layers, newLayer(b, enc.sub(strconv.Itoa(i)), c))
	}
	m.SetFusedQKV(true)
	if pooler {
		h := int64(c.HiddenSize)
		l := newLinear(b, p.sub("pooler").sub("dense"), h, h)
		m.pooler = &l
	}
	return m
}

// NewModel returns a freshly initialised BertModel with pooler on dev.
func NewModel(c *Config, dev gotch.Device) (m *Model, err error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	defer torchutil.Recover(&err)
	c = c.Clone()
	b := &builder{vs: nn.NewVarStore(dev), std: c.InitializerRange}
	err = torchutil.NoGrad(func() error {
		m = newModel(b, key(""), c, true)
		return b.err
	})
	if err != nil {
		return nil, err
	}
	m.params = b.params
	return m, nil
}

// useSDPA decides the kernel once per model.
func (m *Model) useSDPA() bool {
	switch m.attn {
	case AttentionManual:
		return false
	case AttentionSDPA:
		return true
	}
	if !m.probed {
		m.sdpaOK = sdpaAvailable(m.dev)
		m.probed = true
	}
	return m.sdpaOK
}

// sdpaAvailable calls scaled_dot_product_attention on a 1-element input:
// libtorch < 2.0 builds (Debian's 1.13) have it stubbed to an error.
func sdpaAvailable(dev gotch.Device) bool {
	x, err := ts.Zeros([]int64{1, 1, 1, 1}, modelDType, dev)
	if err != nil {
		return false
	}
	defer x.MustDrop()
	y, err := ts.ScaledDotProductAttention(x, x, x, ts.None, 0, false, nil)
	if err != nil {
		return false
	}
	y.MustDrop()
	return true
}

// SetAttention selects the attention kernel; AttentionSDPA fails when the
// linked libtorch lacks it.
func (m *Model) SetAttention(a Attention) error {
	if a == AttentionSDPA {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if !sdpaAvailable(m.dev) {
			return fmt.Errorf("bert: scaled_dot_product_attention is not available in this libtorch (needs ≥ 2.0)")
		}
	}
	m.attn = a
	m.probed = false
	return nil
}

// SetFusedQKV selects whether self-attention projects query, key and value
// with one matmul against the concatenated (3H, H) weights (on) or with
// three (off, HF's BertSelfAttention literally). Both compute the same
// function with the same parameters (TestFusedQKVMatchesSeparate);
// checkpoints are unaffected. The fused form launches fewer, larger
// kernels, which is what a launch-bound GPU step at batch 4 needs; it is
// the default. On the CPU the two measured the same (biobertpt bench -qkv
// fused|separate, tiny and 74M-parameter models; BENCHMARKS.md).
func (m *Model) SetFusedQKV(on bool) {
	for _, l := range m.layers {
		l.attn.fused = on
	}
}

// FusedQKV reports whether self-attention uses the fused QKV projection.
func (m *Model) FusedQKV() bool { return len(m.layers) > 0 && m.layers[0].attn.fused }

// SDPA reports whether forward passes use the fused attention kernel.
func (m *Model) SDPA() bool {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return m.useSDPA()
}

// checkInputs validates a batch at the API boundary (shapes and dtypes;
// values of CPU tensors only) and returns ids, mask and types on the model
// device (all owned by s).
func (m *Model) checkInputs(s *tensors.Scope, in Inputs) (ids, mask, types *ts.Tensor, err error) {
	if in.InputIDs == nil {
		return nil, nil, nil, fmt.Errorf("bert: inputs: InputIDs is nil")
	}
	shape, err := in.InputIDs.Size()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bert: inputs: %w", err)
	}
	if len(shape) != 2 || shape[0] < 1 || shape[1] < 1 {
		return nil, nil, nil, fmt.Errorf("bert: inputs: input_ids shape %v, want (batch ≥ 1, length ≥ 1)", shape)
	}
	if shape[1] > int64(m.cfg.MaxPositionEmbeddings) {
		return nil, nil, nil, fmt.Errorf("bert: inputs: length %d exceeds max_position_embeddings %d", shape[1], m.cfg.MaxPositionEmbeddings)
	}
	prep := func(name string, t *ts.Tensor, limit int64) (*ts.Tensor, error) {
		if t.DType() != gotch.Int64 {
			return nil, fmt.Errorf("bert: inputs: %s dtype %v, want int64", name, t.DType())
		}
		sh, err := t.Size()
		if err != nil {
			return nil, fmt.Errorf("bert: inputs: %s: %w", name, err)
		}
		if len(sh) != 2 || sh[0] != shape[0] || sh[1] != shape[1] {
			return nil, fmt.Errorf("bert: inputs: %s shape %v, want %v like input_ids", name, sh, shape)
		}
		// Values are checked where that costs no device sync: on CPU
		// inputs. Reading a CUDA tensor's min/max would make every forward
		// wait for the GPU; an out-of-range id there fails in the embedding
		// kernel instead (a device-side assert), as in HF.
		if dev, err := t.Device(); err == nil && !dev.IsCuda() {
			lo, err := t.Min(false)
			if err != nil {
				return nil, fmt.Errorf("bert: inputs: %s: %w", name, err)
			}
			s.Add(lo)
			hi := s.Add(t.MustMax(false))
			l, h := lo.MustInt64Value([]int64{}), hi.MustInt64Value([]int64{})
			if l < 0 || h >= limit {
				return nil, fmt.Errorf("bert: inputs: %s values in [%d, %d], want [0, %d)", name, l, h, limit)
			}
		}
		x, err := t.To(m.dev, false)
		if err != nil {
			return nil, fmt.Errorf("bert: inputs: %s: %w", name, err)
		}
		return s.Add(x), nil
	}
	if ids, err = prep("input_ids", in.InputIDs, int64(m.cfg.VocabSize)); err != nil {
		return nil, nil, nil, err
	}
	if in.AttentionMask != nil {
		if mask, err = prep("attention_mask", in.AttentionMask, 2); err != nil {
			return nil, nil, nil, err
		}
	} else {
		mask = s.Add(ts.MustOnes(shape, gotch.Int64, m.dev))
	}
	if in.TokenTypeIDs != nil {
		if types, err = prep("token_type_ids", in.TokenTypeIDs, int64(m.cfg.TypeVocabSize)); err != nil {
			return nil, nil, nil, err
		}
	} else {
		types = s.Add(ts.MustZeros(shape, gotch.Int64, m.dev))
	}
	return ids, mask, types, nil
}

// encode runs embeddings and encoder on validated inputs: (B, T, H),
// float32 at every precision (the last op is a LayerNorm).
func (m *Model) encode(ac *autocast, ids, mask, types *ts.Tensor, train bool) *ts.Tensor {
	s := tensors.NewScope()
	defer s.Drop()
	sdpa := m.useSDPA()
	// HF get_extended_attention_mask: (1 - mask)[:, None, None, :] * finfo.min.
	// float32, except for SDPA under autocast, whose mask must have the
	// query's dtype (and that dtype's min, so it stays finite).
	minV := -math.MaxFloat32
	if sdpa && ac.on() {
		minV = maskMin(ac.dt)
	}
	ext := s.Add(mask.MustTotype(modelDType, false))
	ext = s.Add(ext.MustRsubScalar(ts.FloatScalar(1), false))
	ext = s.Add(ext.MustMulScalar(ts.FloatScalar(minV), false))
	ext = s.Add(s.Add(ext.MustUnsqueeze(1, false)).MustUnsqueeze(2, false)) // (B, 1, 1, T)
	if sdpa {
		ext = ac.low(s, ext)
	}
	x := s.Add(m.emb.forward(ids, types, train))
	for _, l := range m.layers {
		x = s.Add(l.forward(ac, x, ext, train, sdpa))
	}
	return x.MustShallowClone()
}

// Forward returns last_hidden_state (B, T, H); the caller owns it. train
// enables dropout.
func (m *Model) Forward(in Inputs, train bool) (out *ts.Tensor, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	ids, mask, types, err := m.checkInputs(s, in)
	if err != nil {
		return nil, err
	}
	return m.encode(newAutocast(m.Precision(), s), ids, mask, types, train), nil
}

// Pooled returns the pooler output tanh(W h[:, 0] + b), (B, H). It fails for
// a model built without a pooler.
func (m *Model) Pooled(in Inputs, train bool) (out *ts.Tensor, err error) {
	if m.pooler == nil {
		return nil, fmt.Errorf("bert: model has no pooler")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	ids, mask, types, err := m.checkInputs(s, in)
	if err != nil {
		return nil, err
	}
	ac := newAutocast(m.Precision(), s)
	h := s.Add(m.encode(ac, ids, mask, types, train))
	first := s.Add(h.MustSelect(1, 0, false)) // (B, H)
	return fp32(s, s.Add(s.Add(m.pooler.forward(ac, first)).MustTanh(false))).MustShallowClone(), nil
}

// Config returns the model's configuration (do not modify it).
func (m *Model) Config() *Config { return m.cfg }

// VarStore returns the variable store holding the parameters.
func (m *Model) VarStore() *nn.VarStore { return m.vs }

// Device returns the device the parameters live on.
func (m *Model) Device() gotch.Device { return m.dev }

// Parameters returns the parameters in HF state-dict order with HF keys.
func (m *Model) Parameters() []Param { return append([]Param(nil), m.params...) }

// HasPooler reports whether the model has BertPooler weights.
func (m *Model) HasPooler() bool { return m.pooler != nil }
