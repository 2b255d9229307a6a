package bert

import (
	"bytes"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/sugarme/gotch/ts"
)

// HF's BertForMaskedLM and BertForTokenClassification checkpoints have no
// pooler; they load as a base model with a fresh pooler and a notice, and
// last_hidden_state is exactly the head model's encoder output (whose
// logits TestParityHF checks against HF), for both file formats.
func TestLoadModelFromHeadlessCheckpoints(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, name := range fixtureConfigs {
		e := readExpected(t, name)
		for _, head := range []Head{HeadMaskedLM, HeadTokenClassification} {
			src := filepath.Join("testdata", name, string(head))
			for _, f := range formats(t, src) {
				t.Run(name+"/"+string(head)+"/"+f, func(t *testing.T) {
					dir := withWeights(t, src, f)
					var log bytes.Buffer
					m, rep, err := LoadModel(dir, LoadOptions{Log: &log})
					require.NoError(t, err)
					defer m.Close()
					assert.Equal(t, []string{"pooler.dense.weight", "pooler.dense.bias"}, rep.Initialized)
					assert.Contains(t, log.String(), "has no pooler")
					assert.True(t, m.HasPooler())

					hm, _, err := FromPretrained(dir, head, LoadOptions{})
					require.NoError(t, err)
					var enc *Model
					switch x := hm.(type) {
					case *ForMaskedLM:
						enc = x.Bert
					case *ForTokenClassification:
						enc = x.Bert
					}
					defer closeVarStore(hm.VarStore())

					s := tensors.NewScope()
					defer s.Drop()
					in := e.inputs(t, s)
					out, err := m.Forward(in, false)
					require.NoError(t, err)
					got, shape := values(t, s.Add(out))
					assert.Equal(t, e.HiddenShape, shape)
					ref, err := enc.Forward(in, false)
					require.NoError(t, err)
					want, _ := values(t, s.Add(ref))
					assert.Equal(t, want, got)
					p, err := m.Pooled(in, false)
					require.NoError(t, err)
					s.Add(p)

					pm, _, err := FromPretrained(dir, HeadBase, LoadOptions{})
					require.NoError(t, err, "FromPretrained -head base")
					require.NoError(t, pm.(*Model).Close())
				})
			}
		}
	}
}

// Forward and Pooled without train build no autograd graph; with train
// they do; the thread's grad mode is restored either way.
func TestInferenceWithoutAutograd(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := readExpected(t, "tiny")
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	base, _, err := LoadModel(filepath.Join("testdata", "tiny", "base"), LoadOptions{})
	require.NoError(t, err)
	defer base.Close()
	mlm, _, err := LoadForMaskedLM(filepath.Join("testdata", "tiny", "mlm"), LoadOptions{})
	require.NoError(t, err)
	defer mlm.Close()
	tok, _, err := LoadForTokenClassification(filepath.Join("testdata", "tiny", "token-classification"), LoadOptions{})
	require.NoError(t, err)
	defer tok.Close()
	for name, fwd := range map[string]func(bool) (*ts.Tensor, error){
		"base":   func(train bool) (*ts.Tensor, error) { return base.Forward(in, train) },
		"pooled": func(train bool) (*ts.Tensor, error) { return base.Pooled(in, train) },
		"mlm":    func(train bool) (*ts.Tensor, error) { return mlm.Forward(in, train) },
		"token":  func(train bool) (*ts.Tensor, error) { return tok.Forward(in, train) },
	} {
		for _, train := range []bool{false, true} {
			require.True(t, torchutil.GradEnabled())
			out, err := fwd(train)
			require.NoError(t, err)
			x := s.Add(out)
			assert.Equal(t, train, x.MustRequiresGrad(), "%s train=%v", name, train)
			assert.True(t, torchutil.GradEnabled(), "%s: grad mode restored", name)
		}
	}
}
