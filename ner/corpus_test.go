package ner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeFiles creates files (name → content) under a new temporary
// directory and returns it.
func writeFiles(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// words returns the words of every sentence of a document.
func words(d Document) [][]string {
	var out [][]string
	for _, s := range d.Sentences {
		out = append(out, s.Words)
	}
	return out
}

// tags returns the tags of every sentence of a document.
func tags(d Document) [][]string {
	var out [][]string
	for _, s := range d.Sentences {
		out = append(out, s.Tags)
	}
	return out
}
