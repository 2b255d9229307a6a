package bert

import (
	"math"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/sugarme/gotch/ts"
)

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
