package bert

import (
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/sugarme/gotch/ts"
)

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
