package bert

import (
	"fmt"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

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
