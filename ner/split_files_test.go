package ner_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/ner"
)

// conllDocs writes a CoNLL file of n -DOCSTART- documents of one sentence.
func conllDocs(t *testing.T, dir, name string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("-DOCSTART- O\n\nPaciente O\ncom O\ndor B-C\n. O\n\n")
	}
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

func TestSplitFromFiles(t *testing.T) {
	dir := t.TempDir()
	train, dev, test := conllDocs(t, dir, "train.conll", 8), conllDocs(t, dir, "dev.conll", 2), conllDocs(t, dir, "test.conll", 3)
	read := func(p string) (*ner.Corpus, error) { return ner.ReadCoNLL(p, ner.CoNLLOptions{}) }
	count := func(c *ner.Corpus) int { return len(c.Documents) }

	s, err := ner.SplitFromFiles(ner.SplitFiles{Train: train, Dev: dev, Test: test}, read, 0.25, 1)
	require.NoError(t, err)
	assert.Equal(t, []int{8, 2, 3}, []int{count(s.Train), count(s.Dev), count(s.Test)})
	assert.Equal(t, "train#1", s.Train.Documents[0].ID)
	assert.Equal(t, test, s.Files.Test)

	s, err = ner.SplitFromFiles(ner.SplitFiles{Train: train}, read, 0.25, 1)
	require.NoError(t, err)
	assert.Equal(t, []int{6, 2, 0}, []int{count(s.Train), count(s.Dev), count(s.Test)}, "dev carved from train, no test")
	again, err := ner.SplitFromFiles(ner.SplitFiles{Train: train}, read, 0.25, 1)
	require.NoError(t, err)
	assert.Equal(t, s.Dev.Documents[0].ID, again.Dev.Documents[0].ID, "seeded")
	s, err = ner.SplitFromFiles(ner.SplitFiles{Train: train}, read, 0, 1)
	require.NoError(t, err)
	assert.Equal(t, []int{8, 0, 0}, []int{count(s.Train), count(s.Dev), count(s.Test)})

	for _, tc := range []struct {
		name  string
		files ner.SplitFiles
		frac  float64
		want  string
	}{
		{"no train", ner.SplitFiles{Dev: dev}, 0.2, "no training file"},
		{"same file twice", ner.SplitFiles{Train: train, Test: train}, 0.2, "and the test part"},
		{"missing", ner.SplitFiles{Train: train, Dev: filepath.Join(dir, "nope.conll")}, 0.2, "dev " + filepath.Join(dir, "nope.conll")},
		{"bad fraction", ner.SplitFiles{Train: train}, 1, "dev fraction 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ner.SplitFromFiles(tc.files, read, tc.frac, 1)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestHashPath(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "d", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d", "a.txt"), []byte("a\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "d", "sub", "b.txt"), []byte("b\n"), 0o644))
	f, err := ner.HashPath(filepath.Join(dir, "d", "a.txt"))
	require.NoError(t, err)
	assert.Equal(t, "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7", f, "sha256sum of \"a\\n\"")
	// sha256sum of the lines "<sum>  a.txt", "<sum>  sub/b.txt"
	d, err := ner.HashPath(filepath.Join(dir, "d"))
	require.NoError(t, err)
	assert.Equal(t, "05852cdca405f9d9ca358f96a72be87f491664b3bd8cfccc8955394939bd32e4", d)
}
