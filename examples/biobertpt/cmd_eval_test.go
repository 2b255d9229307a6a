package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runEvalCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(&env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, append([]string{"eval"}, args...))
	return code, out.String(), errb.String()
}

func TestEvalConllevalGolden(t *testing.T) {
	dir := filepath.Join("..", "..", "metrics", "testdata", "conlleval")
	for _, name := range []string{"basic", "iobes", "docstart", "brackets"} {
		want, err := os.ReadFile(filepath.Join(dir, name+".golden"))
		require.NoError(t, err)
		code, out, stderr := runEvalCmd(t, "", "-format", "conlleval", filepath.Join(dir, name+".txt"))
		require.Equal(t, 0, code, stderr)
		assert.Equal(t, string(want), out, name)
	}
}

const evalInput = "Nega O O\nfebre B-SINAL B-SINAL\n\ndor B-SINAL I-SINAL\ntoracica I-SINAL I-SINAL\nhá O O\n2 B-TEMPO B-TEMPO\ndias I-TEMPO O\n"

func TestEvalJSONStdin(t *testing.T) {
	code, out, stderr := runEvalCmd(t, evalInput, "-format", "json", "-")
	require.Equal(t, 0, code, stderr)
	var got struct {
		Overall map[string]float64            `json:"overall"`
		PerType map[string]map[string]float64 `json:"per_type"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, 3.0, got.Overall["found_gold"])
	assert.Equal(t, 3.0, got.Overall["found_pred"])
	assert.Equal(t, 2.0, got.Overall["correct"])             // conlleval: "I-SINAL I-SINAL" is a chunk
	assert.InDelta(t, 5.0/7, got.Overall["accuracy"], 1e-12) // "dor" and "dias" differ
	assert.Equal(t, 1.0, got.PerType["TEMPO"]["support"])
	assert.Equal(t, 0.0, got.PerType["TEMPO"]["f1"])
}

func TestEvalTextModes(t *testing.T) {
	code, out, _ := runEvalCmd(t, evalInput, "-")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "       SINAL       1.00      1.00      1.00         2\n")
	// Strict IOB2: "I-SINAL I-SINAL" is no chunk.
	code, out, _ = runEvalCmd(t, evalInput, "-mode", "strict", "-scheme", "iob2", "-digits", "4", "-")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "       SINAL     1.0000    0.5000    0.6667         2\n")
}

func TestEvalErrors(t *testing.T) {
	code, _, stderr := runEvalCmd(t, "a B-X\n", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, `<stdin>:1: tag "a" is neither O nor PREFIX-TYPE`) // two fields: "a" is the gold tag
	code, _, stderr = runEvalCmd(t, "a B-X B-X\nb O\n", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "<stdin>:2: 2 fields, want 3")
	code, _, _ = runEvalCmd(t, "", "-format", "xml", "-")
	assert.Equal(t, 2, code)
	code, _, _ = runEvalCmd(t, "", "-format", "conlleval", "-mode", "strict", "-")
	assert.Equal(t, 2, code)
	code, _, _ = runEvalCmd(t, "", "-scheme", "bioul", "-") // "bio" is IOB2
	assert.Equal(t, 2, code)
	code, _, _ = runEvalCmd(t, "")
	assert.Equal(t, 2, code)
	code, _, stderr = runEvalCmd(t, "", filepath.Join(t.TempDir(), "missing.txt"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "missing.txt")
}
