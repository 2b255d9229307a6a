package bert

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFusedQKVMatchesSeparate: the fused (3H, H) projection gives the same
// logits, loss and gradients (every parameter's, the q/k/v weights above
// all) as three separate projections, at fp32 and bf16, with both attention
// kernels this libtorch has.
func TestFusedQKVMatchesSeparate(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := readExpected(t, "tiny")
	m, _, err := LoadForTokenClassification(filepath.Join("testdata", "tiny", "token-classification"), LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	assert.True(t, m.Bert.FusedQKV(), "fused is the default")
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	labels := int64Tensor(t, s, e.TokenLabels)

	type result struct {
		logits, loss []float64
		grads        map[string][]float64
	}
	run := func(fused bool) result {
		m.Bert.SetFusedQKV(fused)
		require.Equal(t, fused, m.Bert.FusedQKV())
		out, err := m.Forward(in, false)
		require.NoError(t, err)
		logits, _ := values(t, s.Add(out))
		loss, err := m.Loss(in, labels, false, nil)
		require.NoError(t, err)
		s.Add(loss)
		require.NoError(t, loss.Backward())
		lv, _ := values(t, loss)
		r := result{logits: logits, loss: lv, grads: map[string][]float64{}}
		for _, p := range m.Parameters() {
			g, err := p.Tensor.Grad(false)
			require.NoError(t, err)
			s.Add(g)
			if !g.MustDefined() {
				continue
			}
			r.grads[p.Name], _ = values(t, g)
			require.NoError(t, g.Zero_())
		}
		return r
	}
	for _, p := range []Precision{PrecisionFP32, PrecisionBF16} {
		require.NoError(t, m.SetPrecision(p))
		tol := 1e-6
		if p == PrecisionBF16 {
			tol = 2e-2 // bf16 GEMMs may round differently by shape
		}
		sep, fused := run(false), run(true)
		assert.InDeltaSlice(t, sep.logits, fused.logits, tol, "%s logits", p)
		assert.InDeltaSlice(t, sep.loss, fused.loss, tol, "%s loss", p)
		require.Equal(t, len(sep.grads), len(fused.grads))
		qkv := 0
		for name, g := range sep.grads {
			require.Contains(t, fused.grads, name)
			assert.InDeltaSlice(t, g, fused.grads[name], tol, "%s grad of %s", p, name)
			if strings.Contains(name, ".attention.self.") {
				qkv++
			}
		}
		assert.Equal(t, 6*m.Config().NumHiddenLayers, qkv, "q, k, v weights and biases of every layer get gradients")
	}
}
