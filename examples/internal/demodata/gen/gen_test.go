package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demodataDir is internal/demodata, which holds the generated files.
var demodataDir = filepath.Join("..", "..", "..", "..", "internal", "demodata")

// TestCommittedDataIsGeneratorOutput regenerates the data into a temporary
// directory and compares it with the committed files, so that a changed
// word list or template cannot go unnoticed.
func TestCommittedDataIsGeneratorOutput(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, run(out))
	for _, name := range []string{"clinical.txt", "vocab.txt"} {
		want, err := os.ReadFile(filepath.Join(demodataDir, name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(out, name))
		require.NoError(t, err)
		assert.True(t, string(want) == string(got), "%s differs: run go run ./examples/internal/demodata/gen", name)
	}
	files, err := filepath.Glob(filepath.Join(out, "ner", "*.tsv"))
	require.NoError(t, err)
	committed, err := filepath.Glob(filepath.Join(demodataDir, "ner", "*.tsv"))
	require.NoError(t, err)
	require.Equal(t, len(committed), len(files))
	for _, f := range files {
		want, err := os.ReadFile(filepath.Join(demodataDir, "ner", filepath.Base(f)))
		require.NoError(t, err)
		got, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.True(t, string(want) == string(got), "%s differs", filepath.Base(f))
	}
}

func TestBasicTokens(t *testing.T) {
	assert.Equal(t, []string{"PA", ":", "120", "/", "80", "mmHg", ",", "38", ",", "5", "°C", "mm³"},
		basicTokens("PA: 120/80 mmHg, 38,5 °C mm³"))
}

func TestRenderTagsIOB2(t *testing.T) {
	c := &ctx{r: newRNG(1, 1), p: newPatient(newRNG(1, 1))}
	got := c.render("{N:nega} {C:dor torácica} {g:há|há} {DT:2 dias} .")
	assert.Equal(t, []tok{{"Nega", "B-N"}, {"dor", "B-C"}, {"torácica", "I-C"}, {"há", "O"},
		{"2", "B-DT"}, {"dias", "I-DT"}, {".", "O"}}, got)
}
