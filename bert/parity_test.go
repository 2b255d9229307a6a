package bert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// expected is testdata/<config>/expected.json written by gen_fixtures.py.
type expected struct {
	InputIDs      [][]int64 `json:"input_ids"`
	AttentionMask [][]int64 `json:"attention_mask"`
	TokenTypeIDs  [][]int64 `json:"token_type_ids"`
	MLMLabels     [][]int64 `json:"mlm_labels"`
	TokenLabels   [][]int64 `json:"token_labels"`
	Labels        []string  `json:"labels"`
	LastHidden    []float64 `json:"last_hidden_state"`
	Pooler        []float64 `json:"pooler_output"`
	HiddenShape   []int64   `json:"hidden_shape"`
	MLMLogits     []float64 `json:"mlm_logits"`
	MLMShape      []int64   `json:"mlm_shape"`
	MLMLoss       float64   `json:"mlm_loss"`
	TokenLogits   []float64 `json:"token_logits"`
	TokenShape    []int64   `json:"token_shape"`
	TokenLoss     float64   `json:"token_loss"`
}

var fixtureConfigs = []string{"tiny", "tiny-gelu-new"}

func readExpected(t *testing.T, name string) *expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name, "expected.json"))
	require.NoError(t, err)
	var e expected
	require.NoError(t, json.Unmarshal(b, &e))
	return &e
}

func int64Tensor(t *testing.T, s *tensors.Scope, rows [][]int64) *ts.Tensor {
	t.Helper()
	var flat []int64
	for _, r := range rows {
		flat = append(flat, r...)
	}
	x, err := tensors.FromInt64s(flat, []int64{int64(len(rows)), int64(len(rows[0]))}, gotch.CPU)
	require.NoError(t, err)
	return s.Add(x)
}

func (e *expected) inputs(t *testing.T, s *tensors.Scope) Inputs {
	return Inputs{
		InputIDs:      int64Tensor(t, s, e.InputIDs),
		AttentionMask: int64Tensor(t, s, e.AttentionMask),
		TokenTypeIDs:  int64Tensor(t, s, e.TokenTypeIDs),
	}
}

func values(t *testing.T, x *ts.Tensor) ([]float64, []int64) {
	t.Helper()
	v, err := tensors.Float32s(x)
	require.NoError(t, err)
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out, x.MustSize()
}

// withWeights returns a directory holding config.json of src and the given
// weights file of src renamed to its canonical name.
func withWeights(t *testing.T, src, file string) string {
	t.Helper()
	dst := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join(src, ConfigFile))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dst, ConfigFile), cfg, 0o644))
	w, err := os.ReadFile(filepath.Join(src, file))
	require.NoError(t, err)
	name := SafetensorsFile
	if filepath.Ext(file) == ".bin" {
		name = TorchFile
	}
	require.NoError(t, os.WriteFile(filepath.Join(dst, name), w, 0o644))
	return dst
}

// formats lists the weight files each fixture directory holds.
func formats(t *testing.T, dir string) []string {
	var out []string
	for _, f := range []string{"model.safetensors", "pytorch_model.bin", "pytorch_model_legacy.bin"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			out = append(out, f)
		}
	}
	require.NotEmpty(t, out, dir)
	return out
}

const tol = 1e-5

func TestParityHF(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, name := range fixtureConfigs {
		e := readExpected(t, name)
		for _, head := range []Head{HeadBase, HeadMaskedLM, HeadTokenClassification} {
			src := filepath.Join("testdata", name, string(head))
			for _, f := range formats(t, src) {
				t.Run(name+"/"+string(head)+"/"+f, func(t *testing.T) {
					dir := withWeights(t, src, f)
					s := tensors.NewScope()
					defer s.Drop()
					in := e.inputs(t, s)
					switch head {
					case HeadBase:
						m, rep, err := LoadModel(dir, LoadOptions{})
						require.NoError(t, err)
						assert.Empty(t, rep.Initialized)
						out, err := m.Forward(in, false)
						require.NoError(t, err)
						got, shape := values(t, s.Add(out))
						assert.Equal(t, e.HiddenShape, shape)
						assert.InDeltaSlice(t, e.LastHidden, got, tol)
						p, err := m.Pooled(in, false)
						require.NoError(t, err)
						got, _ = values(t, s.Add(p))
						assert.InDeltaSlice(t, e.Pooler, got, tol)
					case HeadMaskedLM:
						m, rep, err := LoadForMaskedLM(dir, LoadOptions{})
						require.NoError(t, err)
						assert.Empty(t, rep.Initialized)
						out, err := m.Forward(in, false)
						require.NoError(t, err)
						got, shape := values(t, s.Add(out))
						assert.Equal(t, e.MLMShape, shape)
						assert.InDeltaSlice(t, e.MLMLogits, got, tol)
						loss, err := m.Loss(in, int64Tensor(t, s, e.MLMLabels), false)
						require.NoError(t, err)
						assert.InDelta(t, e.MLMLoss, s.Add(loss).MustFloat64Value([]int64{}), tol)
					case HeadTokenClassification:
						m, rep, err := LoadForTokenClassification(dir, LoadOptions{})
						require.NoError(t, err)
						assert.Empty(t, rep.Initialized)
						assert.Equal(t, e.Labels, m.Labels())
						out, err := m.Forward(in, false)
						require.NoError(t, err)
						got, shape := values(t, s.Add(out))
						assert.Equal(t, e.TokenShape, shape)
						assert.InDeltaSlice(t, e.TokenLogits, got, tol)
						loss, err := m.Loss(in, int64Tensor(t, s, e.TokenLabels), false, nil)
						require.NoError(t, err)
						assert.InDelta(t, e.TokenLoss, s.Add(loss).MustFloat64Value([]int64{}), tol)
					}
				})
			}
		}
	}
}
