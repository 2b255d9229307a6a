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
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: rename into %s: %w", path, err)
	}
	if err = SyncDir(dir); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", path, err)
	}
	return nil
}

// WriteBytes is WriteFile for data already in memory.
func WriteBytes(path string, data []byte) error {
	return WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
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
