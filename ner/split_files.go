package ner

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/biobertpt-go/biobertpt/internal/engine"
)

// SplitFiles names the files (or directories, for formats read from one)
// of a corpus that comes already split, as HF's run_ner.py takes
// train_file, validation_file and test_file. Train is required; Dev and
// Test may be empty (see SplitFromFiles).
type SplitFiles struct {
	Train, Dev, Test string
}

// SplitFromFiles reads a split from files: read (ReadCoNLL, ReadCLINpt,
// ReadSemClinBr or ReadBRAT with their options) reads each of files.Train,
// files.Dev and files.Test into its part. Without files.Dev, the dev part is
// devFraction of the training file's document groups, drawn as
// SplitDocuments draws them with seed, and the training part is the rest
// (devFraction 0: no dev part; Train then keeps the last epoch's model).
// Without files.Test the test part is empty and Train evaluates no test
// split. A document ID found in two parts is an error (the same document
// trained and tested on). The split records files in Split.Files, and Train
// records the files' SHA-256 in the run manifest.
func SplitFromFiles(files SplitFiles, read func(path string) (*Corpus, error), devFraction float64, seed int64) (Split, error) {
	if files.Train == "" {
		return Split{}, errors.New("ner: split from files: no training file")
	}
	if read == nil {
		return Split{}, errors.New("ner: split from files: nil reader")
	}
	if files.Dev == "" && !(devFraction >= 0 && devFraction < 1) {
		return Split{}, fmt.Errorf("ner: split from files: dev fraction %g: want 0 ≤ fraction < 1", devFraction)
	}
	part := func(name, path string) (*Corpus, error) {
		if path == "" {
			return nil, nil
		}
		c, err := read(path)
		if err != nil {
			return nil, fmt.Errorf("ner: split from files: %s %s: %w", name, path, err)
		}
		if c == nil || len(c.Documents) == 0 {
			return nil, fmt.Errorf("ner: split from files: %s %s: no documents", name, path)
		}
		return c, nil
	}
	train, err := part("train", files.Train)
	if err != nil {
		return Split{}, err
	}
	dev, err := part("dev", files.Dev)
	if err != nil {
		return Split{}, err
	}
	test, err := part("test", files.Test)
	if err != nil {
		return Split{}, err
	}
	s := Split{Train: train, Dev: dev, Test: test, Files: files}
	if dev == nil {
		s.Dev = train.subset(nil)
		if devFraction > 0 {
			carved, err := SplitDocuments(train, 1-devFraction, devFraction, seed)
			if err != nil {
				return Split{}, fmt.Errorf("ner: split from files: dev part of %s: %w", files.Train, err)
			}
			s.Train, s.Dev = carved.Train, carved.Dev
			s.Seed, s.DevFraction = seed, devFraction
		}
	}
	if test == nil {
		s.Test = train.subset(nil)
	}
	where := map[string]string{}
	for _, p := range []struct {
		name string
		c    *Corpus
	}{{"train", s.Train}, {"dev", s.Dev}, {"test", s.Test}} {
		for _, d := range p.c.Documents {
			if prev, dup := where[d.ID]; dup {
				return Split{}, fmt.Errorf("ner: split from files: document %q is in the %s part (%s) and the %s part (%s)", d.ID, prev, sourceOf(s, prev), p.name, d.Source)
			}
			where[d.ID] = p.name
		}
	}
	return s, nil
}

// sourceOf names the file a part of s was read from.
func sourceOf(s Split, part string) string {
	switch part {
	case "dev":
		if s.Files.Dev != "" {
			return s.Files.Dev
		}
	case "test":
		return s.Files.Test
	}
	return s.Files.Train
}

// filesManifest records a split read by SplitFromFiles in the run
// manifest: the SHA-256 of each given file in data (a change of content
// is a different run; a move is not) and their paths in runtime.
func filesManifest(s Split, data, runtime map[string]any) error {
	if s.Files.Train == "" {
		return nil
	}
	sums, paths := map[string]string{}, map[string]string{}
	for _, p := range []struct{ name, path string }{{"train", s.Files.Train}, {"dev", s.Files.Dev}, {"test", s.Files.Test}} {
		if p.path == "" {
			continue
		}
		sum, err := HashPath(p.path)
		if err != nil {
			return fmt.Errorf("ner: train: %s file: %w", p.name, err)
		}
		sums[p.name] = sum
		abs, _ := filepath.Abs(p.path)
		paths[p.name] = abs
	}
	data["split_files_sha256"] = sums
	runtime["split_files"] = paths
	if s.Files.Dev == "" && s.DevFraction > 0 {
		data["split_dev_from_train"] = map[string]any{"fraction": s.DevFraction, "seed": s.Seed}
	}
	return nil
}

// HashPath returns the hex SHA-256 of a file, or of a directory: the
// SHA-256 of the lines "<SHA-256>  <path relative to the directory>" of
// its regular files in sorted path order (sha256sum's format).
func HashPath(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return engine.HashFile(path)
	}
	var rels []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(path, p)
			if err != nil {
				return err
			}
			rels = append(rels, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(rels)
	h := sha256.New()
	for _, rel := range rels {
		sum, err := engine.HashFile(filepath.Join(path, filepath.FromSlash(rel)))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s  %s\n", sum, rel)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
