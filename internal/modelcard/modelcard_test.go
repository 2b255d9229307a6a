package modelcard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCardRoundTrip(t *testing.T) {
	c := Card{Meta: Metadata{
		Language: []string{"pt"}, License: "apache-2.0", LibraryName: "transformers", Tags: []string{"ner"},
		Datasets: []string{"clinpt"}, BaseModel: "pucpr/biobertpt-all", Metrics: []string{"f1"},
		ModelIndex: []ModelIndex{{Name: "m", Results: []Result{{
			Task: Task{Type: "token-classification"}, Dataset: Dataset{Name: "CLINpt", Type: "clinpt", Split: "test"},
			Metrics: []Metric{{Type: "f1", Value: 0.8627, Name: "Test micro F1"}},
		}}}},
	}, Body: "# m\n\ntext: with a colon\n---\nnot front matter\n"}
	dir := t.TempDir()
	require.NoError(t, Write(dir, c))
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "---\nlanguage:\n  - pt\nlicense: apache-2.0\n"), string(b))
	assert.Contains(t, string(b), "model-index:\n  - name: m\n")
	meta, body, err := Parse(b)
	require.NoError(t, err)
	assert.Equal(t, c.Meta, meta)
	assert.Equal(t, c.Body, body)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")

	_, _, err = Parse([]byte("---\nlanguage: [pt]\n"))
	assert.ErrorContains(t, err, "not closed")
}

func TestTables(t *testing.T) {
	assert.Equal(t, "| parameter | value |\n|---|---|\n| a | `[1,2]` |\n| lr | `0.00003` |\n",
		ParamsTable(map[string]any{"lr": 3e-5, "a": []int{1, 2}}))
	assert.Equal(t, "- `a` `1`\n- … and 1 more (all in the run's `run.json`)\n", FileList(map[string]any{"b": "2", "a": "1"}, 1))
	assert.Contains(t, Software("1.13.0"), "libtorch 1.13.0")
	assert.Contains(t, Hardware("cpu"), "device cpu")
}
