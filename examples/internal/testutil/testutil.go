package testutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// ModelDirName is the name of the directory TinyModelDir writes.
const ModelDirName = "tiny-bert"

// Tokenizer returns the tokenizer of demodata's vocabulary with
// tokenize.DefaultOptions (cased WordPiece).
func Tokenizer(t testing.TB) *tokenize.Tokenizer {
	t.Helper()
	tok, err := tokenize.New(strings.Split(strings.TrimRight(string(demodata.Vocab()), "\n"), "\n"), tokenize.DefaultOptions(), "demodata")
	require.NoError(t, err)
	return tok
}

// TinyModelDir saves a freshly initialised tiny BERT with head (bert.HeadBase,
// bert.HeadMaskedLM or bert.HeadTokenClassification, whose labels are
// labels) and Tokenizer(t) into a new directory t.TempDir()/tiny-bert and
// returns its path. The config is bert.TinyConfig() with the vocabulary's
// size; edit, when not nil, changes it further (dropout, positions) before
// the model is built.
func TinyModelDir(t testing.TB, head bert.Head, labels []string, edit func(*bert.Config)) string {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir := filepath.Join(t.TempDir(), ModelDirName)
	tok := Tokenizer(t)
	cfg := bert.TinyConfig()
	cfg.VocabSize = tok.VocabSize()
	if labels != nil {
		require.NoError(t, cfg.SetLabels(labels))
	}
	if edit != nil {
		edit(cfg)
	}
	var m interface{ Save(string) error }
	var err error
	switch head {
	case bert.HeadBase:
		m, err = bert.NewModel(cfg, gotch.CPU)
	case bert.HeadMaskedLM:
		m, err = bert.NewForMaskedLM(cfg, gotch.CPU)
	case bert.HeadTokenClassification:
		m, err = bert.NewForTokenClassification(cfg, gotch.CPU)
	default:
		require.Failf(t, "testutil: unknown head", "%q", head)
	}
	require.NoError(t, err)
	require.NoError(t, m.Save(dir))
	require.NoError(t, tok.Save(dir))
	return dir
}

// NERDoc is one file of demodata's NER corpus.
type NERDoc struct {
	// Name is the file name ("doc01.tsv").
	Name string
	// Rows are the file's lines split at tabs: token, POS, lemma, tag.
	Rows [][]string
}

// NERDocs returns the first n files (all when n exceeds them) of
// demodata's NER corpus.
func NERDocs(t testing.TB, n int) []NERDoc {
	t.Helper()
	var docs []NERDoc
	for _, f := range nerFiles(t, n) {
		b, err := fs.ReadFile(demodata.NERFS(), f)
		require.NoError(t, err)
		d := NERDoc{Name: f}
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			d.Rows = append(d.Rows, strings.Split(line, "\t"))
		}
		docs = append(docs, d)
	}
	return docs
}

// NERDir copies the first n files of demodata's NER corpus (CLINpt's
// columns, tab-separated) into a new directory and returns it.
func NERDir(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	_, err := demodata.WriteNER(dir, n)
	require.NoError(t, err)
	return dir
}

func nerFiles(t testing.TB, n int) []string {
	t.Helper()
	files, err := fs.ReadDir(demodata.NERFS(), ".")
	require.NoError(t, err)
	var names []string
	for _, f := range files[:min(n, len(files))] {
		names = append(names, f.Name())
	}
	return names
}

// ClinicalLines returns the lines of demodata.ClinicalText, each with its
// "\n".
func ClinicalLines() []string { return strings.SplitAfter(demodata.ClinicalText(), "\n") }

// WriteFile writes the concatenated parts to dir/name and returns the path.
func WriteFile(t testing.TB, dir, name string, parts ...string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(strings.Join(parts, "")), 0o644))
	return p
}
