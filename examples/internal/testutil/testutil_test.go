package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

func TestTinyModelDir(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	vocab := strings.Count(string(demodata.Vocab()), "\n")
	for _, head := range []bert.Head{bert.HeadBase, bert.HeadMaskedLM, bert.HeadTokenClassification} {
		t.Run(string(head), func(t *testing.T) {
			var labels []string
			if head == bert.HeadTokenClassification {
				labels = []string{"O", "B-X", "I-X"}
			}
			dir := TinyModelDir(t, head, labels, func(c *bert.Config) { c.MaxPositionEmbeddings = 128 })
			assert.Equal(t, ModelDirName, filepath.Base(dir))
			m, _, err := bert.FromPretrained(dir, head, bert.LoadOptions{})
			require.NoError(t, err)
			assert.Equal(t, vocab, m.Config().VocabSize)
			assert.Equal(t, 128, m.Config().MaxPositionEmbeddings)
			assert.Equal(t, 32, m.Config().HiddenSize)
			if labels != nil {
				assert.Equal(t, map[int]string{0: "O", 1: "B-X", 2: "I-X"}, m.Config().ID2Label)
			}
			tok, err := tokenize.Load(dir)
			require.NoError(t, err)
			assert.Equal(t, vocab, tok.VocabSize())
		})
	}
}

func TestNERFiles(t *testing.T) {
	docs := NERDocs(t, 3)
	require.Len(t, docs, 3)
	dir := NERDir(t, 3)
	for _, d := range docs {
		assert.True(t, strings.HasSuffix(d.Name, ".tsv"), d.Name)
		require.NotEmpty(t, d.Rows)
		for _, r := range d.Rows {
			assert.Len(t, r, 4, "token, POS, lemma, tag")
		}
		b, err := os.ReadFile(filepath.Join(dir, d.Name))
		require.NoError(t, err)
		assert.Equal(t, len(d.Rows), strings.Count(string(b), "\n"))
	}
	all := NERDocs(t, 1<<20)
	entries, err := os.ReadDir(NERDir(t, 1<<20))
	require.NoError(t, err)
	assert.Len(t, entries, len(all), "n beyond the corpus: every file")
}

func TestWriteFile(t *testing.T) {
	lines := ClinicalLines()
	require.Greater(t, len(lines), 10)
	assert.True(t, strings.HasSuffix(lines[0], "\n"))
	p := WriteFile(t, t.TempDir(), "a.txt", lines[:3]...)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, strings.Join(lines[:3], ""), string(b))
}
