package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/ner"
)

// Tagger is what the server needs of a model; *ner.Tagger implements it.
// Its methods are called from several goroutines.
type Tagger interface {
	// PredictTexts returns the entities of each text (see
	// ner.Tagger.PredictTexts).
	PredictTexts(ctx context.Context, texts []string) ([][]ner.Entity, error)
	// CountTokens returns the sub-tokens of a text, for batching.
	CountTokens(text string) int
	// Info describes the model for GET /v1/models.
	Info() ner.TaggerInfo
}

var _ Tagger = (*ner.Tagger)(nil)

// Model is one model the server answers for under Name. With one tagger
// it answers that tagger's entities; with several (SemClinBr's setup, one
// binary model per entity group) every tagger tags every document and the
// answer holds all their entities (multi-label, possibly overlapping).
type Model struct {
	Name    string
	Taggers []Tagger
}

// Close closes the taggers that have a Close method (ner.Tagger does) and
// returns the first error.
func (m Model) Close() error {
	var first error
	for _, t := range m.Taggers {
		if c, ok := t.(io.Closer); ok {
			if err := c.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// LoadModel loads the model called name from dir with ner.Load and o.
// dir is a model directory (it has config.json), or a directory of group
// models: every subdirectory that is a model directory or has one in
// best/ (train-ner -group all's output directory), or the same inside
// dir/groups (ner-semclinbr's output directory). Group models are loaded
// in the order of their directory names. On error nothing stays loaded.
func LoadModel(name, dir string, o ner.TaggerOptions) (Model, error) {
	dirs, err := ModelDirs(dir)
	if err != nil {
		return Model{}, err
	}
	m := Model{Name: name}
	for _, d := range dirs {
		t, err := ner.Load(d, o)
		if err != nil {
			m.Close()
			return Model{}, fmt.Errorf("serve: model %s: %w", name, err)
		}
		m.Taggers = append(m.Taggers, t)
	}
	return m, nil
}

// ModelDirs returns the model directories LoadModel loads for dir: dir
// itself when it holds config.json, else its group models (see
// LoadModel), sorted.
func ModelDirs(dir string) ([]string, error) {
	if isModelDir(dir) {
		return []string{dir}, nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("serve: model directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("serve: model directory %s: not a directory", dir)
	}
	root := dir
	if g := filepath.Join(dir, "groups"); !isModelDir(g) {
		if st, err := os.Stat(g); err == nil && st.IsDir() {
			root = g
		}
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("serve: model directory: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(root, e.Name())
		switch {
		case isModelDir(sub):
			out = append(out, sub)
		case isModelDir(filepath.Join(sub, "best")):
			out = append(out, filepath.Join(sub, "best"))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("serve: model directory %s: no config.json, and no group models in its subdirectories", dir)
	}
	sort.Strings(out)
	return out, nil
}

func isModelDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "config.json"))
	return err == nil && st.Mode().IsRegular()
}

// ParseModelFlag splits a -model value NAME=DIR; a value without "=" is a
// directory whose name is its last path element.
func ParseModelFlag(v string) (name, dir string, err error) {
	if v == "" {
		return "", "", errors.New("empty model")
	}
	if i := strings.IndexByte(v, '='); i >= 0 {
		name, dir = v[:i], v[i+1:]
		if name == "" || dir == "" {
			return "", "", fmt.Errorf("%q: want NAME=DIR", v)
		}
		return name, dir, nil
	}
	return filepath.Base(strings.TrimRight(v, "/"+string(filepath.Separator))), v, nil
}
