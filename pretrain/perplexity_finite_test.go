package pretrain

import (
	"context"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// TestPerplexityRejectsNonFiniteLoss: a model whose MLM logits are NaN
// (a NaN decoder bias set in memory, past the load-time check) makes
// Perplexity fail with bert.ErrNonFinite instead of reporting NaN.
func TestPerplexityRejectsNonFiniteLoss(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, cfgPath, vocabPath, corpus := tinySetup(t, 200, 0.1)
	m, tok, err := loadModel(context.Background(), modelSource{config: cfgPath, vocab: vocabPath}, gotch.CPU, 42)
	require.NoError(t, err)
	require.NoError(t, torchutil.NoGrad(func() error {
		for _, p := range m.Parameters() {
			if p.Name == "cls.predictions.bias" {
				nan := ts.FloatScalar(math.NaN())
				defer nan.MustDrop()
				return p.Tensor.Fill_(nan)
			}
		}
		return nil
	}))
	o := DefaultPerplexityOptions()
	o.BlockSize = 32
	_, err = Perplexity(context.Background(), m, tok, []string{corpus}, o)
	require.ErrorIs(t, err, bert.ErrNonFinite)
	assert.Contains(t, err.Error(), "pretrain: evaluate: batch 1: loss NaN")
}
