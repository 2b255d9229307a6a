package bert

import (
	"fmt"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// The building blocks of the BERT modules: parameter creation under HF's
// state-dict keys, Linear, LayerNorm, dropout and the activations
// (torch.nn and transformers' ACT2FN).

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
