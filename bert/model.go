package bert

import (
	"fmt"
	"math"
	"runtime"
	"strconv"

	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

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

// Param is one named parameter; Name is the HF state-dict key. It is the
// optimizer's parameter type, so a model's Parameters go to optim as they are.
type Param = optim.Param

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

// Model is transformers' BertModel (models/bert/modeling_bert.py, whose
// eager path embeddings.go, attention.go and layer.go follow module by
// module): embeddings, encoder and (optionally) pooler. Inside a head its
// keys carry the "bert." prefix.
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
// enables dropout; without it Forward runs under no-grad (inference: no
// autograd graph is built and the result does not require grad).
func (m *Model) Forward(in Inputs, train bool) (out *ts.Tensor, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !train { // inference: no autograd graph
		defer torchutil.SetGradEnabled(torchutil.SetGradEnabled(false))
	}
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
// a model built without a pooler. As Forward, it runs under no-grad unless
// train.
func (m *Model) Pooled(in Inputs, train bool) (out *ts.Tensor, err error) {
	if m.pooler == nil {
		return nil, fmt.Errorf("bert: model has no pooler")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !train { // inference: no autograd graph
		defer torchutil.SetGradEnabled(torchutil.SetGradEnabled(false))
	}
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
