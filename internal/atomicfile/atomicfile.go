package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// WriteFile writes path atomically with the bytes write produces. On any
// error (including one returned by write) the temporary file is removed and
// path is left as it was.
func WriteFile(path string, write func(w io.Writer) error) (err error) {
	w, err := Create(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	if err := write(w); err != nil {
		if w.err != nil { // the file's own write error, already wrapped
			return w.err
		}
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	return w.Commit()
}

// WriteBytes is WriteFile for data already in memory.
func WriteBytes(path string, data []byte) error {
	return WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// tempFile is what Writer needs of the temporary *os.File (tests wrap it
// to fail like a full disk).
type tempFile interface {
	io.Writer
	Name() string
	Chmod(os.FileMode) error
	Sync() error
	Close() error
}

// createTemp opens a new temporary file in dir named after base.
type createTemp func(dir, base string) (tempFile, error)

func osCreateTemp(dir, base string) (tempFile, error) {
	return os.CreateTemp(dir, "."+base+".tmp-*")
}

// Writer writes one file atomically as a stream, for output too large to
// build in memory: Create opens a temporary file beside the target, Commit
// syncs it, renames it over the target and syncs the directory. Until
// Commit the target is untouched; Abort, or any failed Write or Commit,
// removes the temporary file. Use it as
//
//	w, err := atomicfile.Create(path)
//	if err != nil { return err }
//	defer w.Abort() // no-op after a successful Commit
//	... write to w ...
//	return w.Commit()
type Writer struct {
	path    string
	f       tempFile
	err     error // the first write error, returned again by Commit
	flushed bool  // synced and closed
	done    bool  // committed or aborted
}

// Create opens a Writer for path. The directory must exist.
func Create(path string) (*Writer, error) {
	return create(path, osCreateTemp)
}

func create(path string, open createTemp) (*Writer, error) {
	f, err := open(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	return &Writer{path: path, f: f}, nil
}

// Write writes to the temporary file. After a failed Write, later ones
// fail too and Commit returns the first error.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done || w.flushed {
		return 0, fmt.Errorf("atomicfile: write %s: %w", w.path, os.ErrClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.f.Write(p)
	if err != nil {
		w.err = fmt.Errorf("atomicfile: write %s: %w", w.path, err)
		return n, w.err
	}
	return n, nil
}

// Commit makes the written bytes the content of the target: fsync, rename,
// fsync of the directory. On error the temporary file is removed and the
// target is as it was.
func (w *Writer) Commit() (err error) {
	if w.done {
		return fmt.Errorf("atomicfile: commit %s: %w", w.path, os.ErrClosed)
	}
	if err := w.finish(); err != nil {
		return err
	}
	w.done = true
	if err := SyncDir(filepath.Dir(w.path)); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", w.path, err)
	}
	return nil
}

// finish flushes the temporary file and renames it over the target, or
// removes it on error.
func (w *Writer) finish() (err error) {
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	if err := w.flush(); err != nil {
		return err
	}
	if err := os.Rename(w.f.Name(), w.path); err != nil {
		return fmt.Errorf("atomicfile: rename into %s: %w", w.path, err)
	}
	return nil
}

// flush makes the temporary file complete on disk: mode, fsync, close.
func (w *Writer) flush() error {
	if w.err != nil {
		return w.err
	}
	if w.flushed {
		return nil
	}
	if err := w.f.Chmod(0o644); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", w.path, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", w.path, err)
	}
	w.flushed = true
	return nil
}

// Abort removes the temporary file and leaves the target as it was. It does
// nothing after Commit or a previous Abort, so it can be deferred.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if !w.flushed {
		w.f.Close()
	}
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("atomicfile: abort %s: %w", w.path, err)
	}
	return nil
}

// File is one file for WriteFiles: where and what.
type File struct {
	Path string
	Data []byte
}

// WriteFiles writes several files together, so that a failure while
// writing (a full disk, a quota) changes none of them: each file is written
// to a temporary file beside its target and synced; only when all are
// written are they renamed into place, in order, and their directories
// synced. On a write error every temporary file is removed and every target
// is as it was. (Renames need no space; if one still fails, the files
// renamed before it are new and the rest as they were.)
func WriteFiles(files ...File) error {
	return writeFiles(files, osCreateTemp)
}

func writeFiles(files []File, open createTemp) error {
	ws := make([]*Writer, 0, len(files))
	defer func() {
		for _, w := range ws {
			w.Abort()
		}
	}()
	for _, f := range files {
		w, err := create(f.Path, open)
		if err != nil {
			return err
		}
		ws = append(ws, w)
		if _, err := w.Write(f.Data); err != nil {
			return err
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
	dirs := map[string]bool{}
	for _, w := range ws {
		if err := w.finish(); err != nil {
			return err
		}
		w.done = true
		dirs[filepath.Dir(w.path)] = true
	}
	for d := range dirs {
		if err := SyncDir(d); err != nil {
			return fmt.Errorf("atomicfile: write %s: %w", d, err)
		}
	}
	return nil
}

// SyncDir fsyncs a directory, making renames and creations in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("atomicfile: sync dir %s: %w", dir, err)
	}
	return nil
}

// WriteDir creates or replaces the directory dir with the one fill builds in
// tmpDir (an empty directory beside dir). The previous dir stays complete
// until the new one is fully written and synced; see the package doc for the
// crash window. On error tmpDir is removed and dir is untouched.
func WriteDir(dir string, fill func(tmpDir string) error) (err error) {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("atomicfile: write dir %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomicfile: write dir %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("atomicfile: write dir %s: %w", dir, err)
	}
	if err = fill(tmp); err != nil {
		return fmt.Errorf("atomicfile: write dir %s: %w", dir, err)
	}
	if err = syncTree(tmp); err != nil {
		return fmt.Errorf("atomicfile: write dir %s: %w", dir, err)
	}
	var aside string
	if _, statErr := os.Lstat(dir); statErr == nil {
		aside, err = reserveName(parent, "."+filepath.Base(dir)+".old-")
		if err != nil {
			return fmt.Errorf("atomicfile: write dir %s: %w", dir, err)
		}
		if err = os.Rename(dir, aside); err != nil {
			return fmt.Errorf("atomicfile: move old %s aside: %w", dir, err)
		}
	}
	if err = os.Rename(tmp, dir); err != nil {
		if aside != "" {
			os.Rename(aside, dir) // put the old version back
		}
		return fmt.Errorf("atomicfile: rename into %s: %w", dir, err)
	}
	if err = SyncDir(parent); err != nil {
		return fmt.Errorf("atomicfile: write dir %s: %w", dir, err)
	}
	if aside != "" {
		if err = os.RemoveAll(aside); err != nil {
			return fmt.Errorf("atomicfile: remove old version of %s: %w", dir, err)
		}
	}
	return nil
}

// RecoverDir repairs what an interrupted WriteDir of dir can leave: when dir
// is missing and a complete old version was moved aside, it is renamed
// back; temporary build directories are removed. It reports whether it
// restored an old version.
func RecoverDir(dir string) (restored bool, err error) {
	dir = filepath.Clean(dir)
	parent, base := filepath.Dir(dir), filepath.Base(dir)
	entries, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("atomicfile: recover %s: %w", dir, err)
	}
	_, statErr := os.Lstat(dir)
	missing := errors.Is(statErr, fs.ErrNotExist)
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(parent, name)
		switch {
		case strings.HasPrefix(name, "."+base+".tmp-"):
			if err := os.RemoveAll(p); err != nil {
				return restored, fmt.Errorf("atomicfile: recover %s: %w", dir, err)
			}
		case strings.HasPrefix(name, "."+base+".old-"):
			if missing && !restored {
				if err := os.Rename(p, dir); err != nil {
					return false, fmt.Errorf("atomicfile: recover %s: %w", dir, err)
				}
				restored = true
				continue
			}
			if err := os.RemoveAll(p); err != nil {
				return restored, fmt.Errorf("atomicfile: recover %s: %w", dir, err)
			}
		}
	}
	if restored {
		if err := SyncDir(parent); err != nil {
			return true, err
		}
	}
	return restored, nil
}

// IsTemp reports whether name (a base name) is one of the temporary names
// WriteFile and WriteDir use.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && (strings.Contains(name, ".tmp-") || strings.Contains(name, ".old-"))
}

func reserveName(parent, prefix string) (string, error) {
	d, err := os.MkdirTemp(parent, prefix+"*")
	if err != nil {
		return "", err
	}
	// os.Rename refuses an existing directory as target: free the unique
	// name again (nothing else uses this prefix).
	if err := os.Remove(d); err != nil {
		return "", err
	}
	return d, nil
}

// syncTree fsyncs every regular file and directory under root, root last.
func syncTree(root string) error {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		serr := f.Sync()
		cerr := f.Close()
		if serr != nil {
			return serr
		}
		return cerr
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := SyncDir(dirs[i]); err != nil {
			return err
		}
	}
	return nil
}
