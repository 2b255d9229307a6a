package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullDisk is a temporary file on a disk with room for `room` more bytes:
// a write beyond them stores what fits and fails with ENOSPC, as write(2)
// does. With failSync, fsync fails instead (file systems that allocate
// late report a full disk there).
type fullDisk struct {
	*os.File
	room     *int
	failSync bool
}

func (f *fullDisk) Write(p []byte) (int, error) {
	if len(p) <= *f.room {
		*f.room -= len(p)
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:*f.room])
	*f.room = 0
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

func (f *fullDisk) Sync() error {
	if f.failSync {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Sync()
}

// diskWithRoom returns a createTemp whose files share room bytes.
func diskWithRoom(room int, failSync bool) createTemp {
	return func(dir, base string) (tempFile, error) {
		f, err := os.CreateTemp(dir, "."+base+".tmp-*")
		if err != nil {
			return nil, err
		}
		return &fullDisk{File: f, room: &room, failSync: failSync}, nil
	}
}

// oldFiles writes name → "old <name>\n" into dir and returns the files to
// write over them.
func oldFiles(t *testing.T, dir string, names ...string) []File {
	t.Helper()
	var files []File
	for i, n := range names {
		p := filepath.Join(dir, n)
		require.NoError(t, os.WriteFile(p, []byte("old "+n+"\n"), 0o644))
		files = append(files, File{Path: p, Data: []byte(strings.Repeat(fmt.Sprintf("new %s line %d\n", n, i), 10+i))})
	}
	return files
}

func assertOld(t *testing.T, dir string, names ...string) {
	t.Helper()
	assert.ElementsMatch(t, names, listDir(t, dir), "no temporary file left")
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		require.NoError(t, err)
		assert.Equal(t, "old "+n+"\n", string(b))
	}
}

// TestFullDisk: with the disk full after any number of bytes, or fsync
// failing, WriteFile, WriteFiles and Writer fail with ENOSPC, leave every
// target as it was and no temporary file behind.
func TestFullDisk(t *testing.T) {
	names := []string{"report.txt", "report.json", "conlleval.txt"}
	total := 0
	for _, f := range oldFiles(t, t.TempDir(), names...) {
		total += len(f.Data)
	}
	rooms := []int{0, 1, 100, total / 2, total - 1}
	cases := 0
	for _, room := range rooms {
		for _, failSync := range []bool{false, true} {
			if failSync && room != total-1 {
				continue
			}
			t.Run(fmt.Sprintf("room %d sync fails %v", room, failSync), func(t *testing.T) {
				t.Run("WriteFiles", func(t *testing.T) {
					dir := t.TempDir()
					files := oldFiles(t, dir, names...)
					err := writeFiles(files, diskWithRoom(room, failSync))
					require.ErrorIs(t, err, syscall.ENOSPC)
					assertOld(t, dir, names...)
				})
				t.Run("WriteFile", func(t *testing.T) {
					dir := t.TempDir()
					files := oldFiles(t, dir, names[0])
					w, err := create(files[0].Path, diskWithRoom(min(room, len(files[0].Data)-1), failSync))
					require.NoError(t, err)
					defer w.Abort()
					_, err = w.Write(files[0].Data)
					if err == nil {
						err = w.Commit()
					}
					require.ErrorIs(t, err, syscall.ENOSPC)
					assert.ErrorIs(t, w.Commit(), syscall.ENOSPC, "Commit after a failed Write reports it")
					assertOld(t, dir, names[0])
				})
				t.Run("Writer in small writes", func(t *testing.T) {
					dir := t.TempDir()
					files := oldFiles(t, dir, names[1])
					w, err := create(files[0].Path, diskWithRoom(min(room, len(files[0].Data)-1), failSync))
					require.NoError(t, err)
					var werr error
					for _, line := range strings.SplitAfter(string(files[0].Data), "\n") {
						if _, werr = io.WriteString(w, line); werr != nil {
							break
						}
					}
					if werr == nil {
						werr = w.Commit()
					} else {
						require.NoError(t, w.Abort())
					}
					require.ErrorIs(t, werr, syscall.ENOSPC)
					assertOld(t, dir, names[1])
				})
			})
			cases++
		}
	}
	assert.Equal(t, len(rooms)+1, cases)

	t.Run("enough room", func(t *testing.T) {
		dir := t.TempDir()
		files := oldFiles(t, dir, names...)
		require.NoError(t, writeFiles(files, diskWithRoom(total, false)))
		for _, f := range files {
			b, err := os.ReadFile(f.Path)
			require.NoError(t, err)
			assert.Equal(t, string(f.Data), string(b))
		}
		assert.ElementsMatch(t, names, listDir(t, dir))
	})
}

// TestWriterProtocol: Commit publishes, Abort discards, and neither can be
// undone or repeated.
func TestWriterProtocol(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.txt")
	w, err := Create(p)
	require.NoError(t, err)
	_, err = io.WriteString(w, "a\n")
	require.NoError(t, err)
	assert.NoFileExists(t, p, "nothing visible before Commit")
	require.NoError(t, w.Commit())
	assert.NoError(t, w.Abort(), "Abort after Commit does nothing")
	_, err = w.Write([]byte("x"))
	assert.ErrorIs(t, err, os.ErrClosed)
	assert.ErrorIs(t, w.Commit(), os.ErrClosed)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "a\n", string(b))

	w, err = Create(p)
	require.NoError(t, err)
	_, err = io.WriteString(w, "b\n")
	require.NoError(t, err)
	require.NoError(t, w.Abort())
	b, err = os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "a\n", string(b), "Abort keeps the old file")
	assert.Equal(t, []string{"out.txt"}, listDir(t, dir))

	_, err = Create(filepath.Join(dir, "missing", "x"))
	assert.ErrorContains(t, err, "atomicfile: write "+filepath.Join(dir, "missing", "x"))
}
