package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var bertTestdata = filepath.Join("..", "..", "bert", "testdata")

// TestForwardCommand runs every head of the tiny fixtures on the padded,
// masked batch of expected.json and compares with the reference outputs.
func TestForwardCommand(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, cfg := range []string{"tiny", "tiny-gelu-new"} {
		raw, err := os.ReadFile(filepath.Join(bertTestdata, cfg, "expected.json"))
		require.NoError(t, err)
		var exp map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &exp))
		in, err := json.Marshal(map[string]json.RawMessage{"input_ids": exp["input_ids"], "attention_mask": exp["attention_mask"], "token_type_ids": exp["token_type_ids"]})
		require.NoError(t, err)
		inFile := filepath.Join(t.TempDir(), "ids.json")
		require.NoError(t, os.WriteFile(inFile, in, 0o644))
		for _, tc := range []struct{ head, key, want string }{
			{"base", "last_hidden_state", "last_hidden_state"},
			{"mlm", "logits", "mlm_logits"},
			{"token-classification", "logits", "token_logits"},
		} {
			t.Run(cfg+"/"+tc.head, func(t *testing.T) {
				var out, errb bytes.Buffer
				code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb},
					[]string{"forward", "-model", filepath.Join(bertTestdata, cfg, tc.head), "-head", tc.head, "-input", inFile})
				require.Equal(t, 0, code, errb.String())
				var got map[string][][][]float64
				require.NoError(t, json.Unmarshal(out.Bytes(), &got))
				require.Contains(t, got, tc.key)
				var flat []float64
				for _, b := range got[tc.key] {
					for _, r := range b {
						flat = append(flat, r...)
					}
				}
				var want []float64
				require.NoError(t, json.Unmarshal(exp[tc.want], &want))
				assert.InDeltaSlice(t, want, flat, 1e-5)
			})
		}
	}
}

func TestForwardCommandErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	model := filepath.Join(bertTestdata, "tiny", "mlm")
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"no model", []string{"-input", "-"}, "", 2, "usage"},
		{"bad head", []string{"-model", model, "-head", "ner", "-input", "-"}, "", 2, `-head "ner"`},
		{"ragged", []string{"-model", model, "-head", "mlm", "-input", "-"}, `{"input_ids":[[1,2],[3]]}`, 1, "input_ids row 1 has 1 ids, want 2"},
		{"mask rows", []string{"-model", model, "-head", "mlm", "-input", "-"}, `{"input_ids":[[1,2]],"attention_mask":[[1,1],[1,1]]}`, 1, "attention_mask has 2 rows"},
		{"unknown field", []string{"-model", model, "-head", "mlm", "-input", "-"}, `{"ids":[[1]]}`, 1, "unknown field"},
		{"id out of vocab", []string{"-model", model, "-head", "mlm", "-input", "-"}, `{"input_ids":[[1,500]]}`, 1, "input_ids values in [1, 500], want [0, 100)"},
		{"bad device", []string{"-model", model, "-head", "mlm", "-input", "-", "-device", "tpu"}, `{"input_ids":[[1]]}`, 2, `device "tpu"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(&env{stdin: strings.NewReader(tc.stdin), stdout: &out, stderr: &errb}, append([]string{"forward"}, tc.args...))
			assert.Equal(t, tc.code, code)
			assert.Contains(t, errb.String(), tc.want)
		})
	}
}

// forward -head base loads headless checkpoints (HF's token-classification
// and masked-LM models have no pooler) with a fresh pooler and a notice.
func TestForwardBaseFromHeadlessCheckpoint(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	raw, err := os.ReadFile(filepath.Join(bertTestdata, "tiny", "expected.json"))
	require.NoError(t, err)
	var exp map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &exp))
	in, err := json.Marshal(map[string]json.RawMessage{"input_ids": exp["input_ids"], "attention_mask": exp["attention_mask"]})
	require.NoError(t, err)
	inFile := filepath.Join(t.TempDir(), "ids.json")
	require.NoError(t, os.WriteFile(inFile, in, 0o644))
	for _, head := range []string{"mlm", "token-classification"} {
		var out, errb bytes.Buffer
		code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb},
			[]string{"forward", "-model", filepath.Join(bertTestdata, "tiny", head), "-head", "base", "-input", inFile})
		require.Equal(t, 0, code, errb.String())
		assert.Contains(t, errb.String(), "has no pooler", head)
		assert.Contains(t, out.String(), `"last_hidden_state"`, head)
	}
}
