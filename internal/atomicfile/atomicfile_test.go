package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	require.NoError(t, WriteBytes(p, []byte("one")))
	require.NoError(t, WriteFile(p, func(w io.Writer) error {
		_, err := io.WriteString(w, "two")
		return err
	}))
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(got))
	assert.Equal(t, []string{"a.json"}, listDir(t, dir), "no temporary file left")
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}

func TestWriteFileErrorKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.json")
	require.NoError(t, WriteBytes(p, []byte("old")))
	boom := errors.New("boom")
	err := WriteFile(p, func(w io.Writer) error {
		io.WriteString(w, "half-writ")
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "a.json")
	got, _ := os.ReadFile(p)
	assert.Equal(t, "old", string(got))
	assert.Equal(t, []string{"a.json"}, listDir(t, dir))

	err = WriteBytes(filepath.Join(dir, "missing", "x"), nil)
	assert.ErrorContains(t, err, "atomicfile: write")
}

func TestWriteDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "checkpoint-10")
	fill := func(content string) func(string) error {
		return func(tmp string) error {
			require.NotEqual(t, dir, tmp)
			require.NoError(t, os.MkdirAll(filepath.Join(tmp, "sub"), 0o755))
			return os.WriteFile(filepath.Join(tmp, "sub", "f.txt"), []byte(content), 0o644)
		}
	}
	require.NoError(t, WriteDir(dir, fill("v1")))
	require.NoError(t, WriteDir(dir, fill("v2")))
	got, err := os.ReadFile(filepath.Join(dir, "sub", "f.txt"))
	require.NoError(t, err)
	assert.Equal(t, "v2", string(got))
	assert.Equal(t, []string{"checkpoint-10"}, listDir(t, parent))

	// A failing fill leaves the previous version and no debris.
	err = WriteDir(dir, func(tmp string) error { return fmt.Errorf("disk full") })
	assert.ErrorContains(t, err, "disk full")
	got, _ = os.ReadFile(filepath.Join(dir, "sub", "f.txt"))
	assert.Equal(t, "v2", string(got))
	assert.Equal(t, []string{"checkpoint-10"}, listDir(t, parent))
}

func TestRecoverDir(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	require.NoError(t, WriteDir(dir, func(tmp string) error {
		return os.WriteFile(filepath.Join(tmp, "x"), []byte("good"), 0o644)
	}))
	// Simulate a crash between the two renames of a second WriteDir: the
	// good version is aside, a half-built temp directory exists.
	aside := filepath.Join(parent, ".out.old-123")
	require.NoError(t, os.Rename(dir, aside))
	require.NoError(t, os.MkdirAll(filepath.Join(parent, ".out.tmp-456"), 0o755))
	restored, err := RecoverDir(dir)
	require.NoError(t, err)
	assert.True(t, restored)
	got, err := os.ReadFile(filepath.Join(dir, "x"))
	require.NoError(t, err)
	assert.Equal(t, "good", string(got))
	assert.Equal(t, []string{"out"}, listDir(t, parent))

	// Nothing to do.
	restored, err = RecoverDir(dir)
	require.NoError(t, err)
	assert.False(t, restored)
	restored, err = RecoverDir(filepath.Join(parent, "nope", "x"))
	require.NoError(t, err)
	assert.False(t, restored)
}

func TestIsTemp(t *testing.T) {
	assert.True(t, IsTemp(".checkpoint-5.tmp-123"))
	assert.True(t, IsTemp(".checkpoint-5.old-9"))
	assert.False(t, IsTemp("checkpoint-5"))
	assert.False(t, IsTemp(".hidden"))
}
