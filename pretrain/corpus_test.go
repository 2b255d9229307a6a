package pretrain

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEncoder is a WordPiece-like encoder over the letters a–e: a word is cut
// into pieces of 3 letters, the first as is and the others prefixed "##";
// pieces with other characters are [UNK]. Its vocabulary is the 5 specials
// and every piece of 1–3 letters, with and without "##".
type fakeEncoder struct {
	tokens []string
	ids    map[string]int
	calls  atomic.Int64
	fail   string // EncodeIDs errors on a sentence containing it
	panics string // EncodeIDs panics on a sentence containing it
	drop   string // EncodeIDs returns no ids for a sentence containing it
}

func newFakeEncoder() *fakeEncoder {
	e := &fakeEncoder{tokens: []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}, ids: map[string]int{}}
	var pieces []string
	var gen func(prefix string)
	gen = func(prefix string) {
		if len(prefix) == 3 {
			return
		}
		for _, c := range "abcde" {
			p := prefix + string(c)
			pieces = append(pieces, p)
			gen(p)
		}
	}
	gen("")
	for _, p := range pieces {
		e.tokens = append(e.tokens, p, "##"+p)
	}
	for i, t := range e.tokens {
		e.ids[t] = i
	}
	return e
}

func (e *fakeEncoder) CLS() int            { return 2 }
func (e *fakeEncoder) SEP() int            { return 3 }
func (e *fakeEncoder) PAD() int            { return 0 }
func (e *fakeEncoder) MASK() int           { return 4 }
func (e *fakeEncoder) UNK() int            { return 1 }
func (e *fakeEncoder) VocabSize() int      { return len(e.tokens) }
func (e *fakeEncoder) Token(id int) string { return e.tokens[id] }

func (e *fakeEncoder) EncodeIDs(text string) ([]int32, error) {
	e.calls.Add(1)
	if e.fail != "" && strings.Contains(text, e.fail) {
		return nil, errors.New("fake failure")
	}
	if e.panics != "" && strings.Contains(text, e.panics) {
		panic("fake panic")
	}
	if e.drop != "" && strings.Contains(text, e.drop) {
		return nil, nil
	}
	var ids []int32
	for _, w := range strings.Fields(text) {
		for i := 0; i < len(w); i += 3 {
			p := w[i:min(i+3, len(w))]
			if i > 0 {
				p = "##" + p
			}
			id, ok := e.ids[p]
			if !ok {
				id = e.UNK()
			}
			ids = append(ids, int32(id))
		}
	}
	return ids, nil
}

// randomText returns nLines lines of random words over a–e; every
// blankEvery-th line is blank (0: none).
func randomText(seed uint64, nLines, blankEvery int) string {
	r := rand.New(rand.NewPCG(seed, 1))
	var sb strings.Builder
	for l := 0; l < nLines; l++ {
		if blankEvery > 0 && l%blankEvery == blankEvery-1 {
			sb.WriteString("\n")
			continue
		}
		nw := 1 + r.IntN(20)
		for w := 0; w < nw; w++ {
			if w > 0 {
				sb.WriteByte(' ')
			}
			nc := 1 + r.IntN(8)
			for c := 0; c < nc; c++ {
				sb.WriteByte("abcde"[r.IntN(5)])
			}
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func gzipBytes(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func readAll(t *testing.T, files []string, opts CorpusOptions) ([]Document, error) {
	t.Helper()
	var docs []Document
	err := ReadCorpus(context.Background(), files, opts, func(d Document) error {
		docs = append(docs, d)
		return nil
	})
	return docs, err
}

func TestReadCorpus(t *testing.T) {
	dir := t.TempDir()
	text := "\xef\xbb\xbfPaciente com dor.\r\n\nSem febre.\n  \nOutra nota\nsegunda linha\n\n\n"
	plain := writeFile(t, dir, "a.txt", []byte(text))
	gzNamedTxt := writeFile(t, dir, "b.txt", gzipBytes(t, text))
	gz := writeFile(t, dir, "c.txt.gz", gzipBytes(t, text))
	split := func(s string) [][2]int { // split at ". "
		var r [][2]int
		start := 0
		for i := 0; i+1 < len(s); i++ {
			if s[i] == '.' && s[i+1] == ' ' {
				r = append(r, [2]int{start, i + 1})
				start = i + 2
			}
		}
		return append(r, [2]int{start, len(s)})
	}
	lines := []Document{
		{Line: 1, Sentences: []string{"Paciente com dor."}},
		{Line: 3, Sentences: []string{"Sem febre."}},
		{Line: 5, Sentences: []string{"Outra nota"}},
		{Line: 6, Sentences: []string{"segunda linha"}},
	}
	paras := []Document{
		{Line: 1, Sentences: []string{"Paciente com dor."}},
		{Line: 3, Sentences: []string{"Sem febre."}},
		{Line: 5, Sentences: []string{"Outra nota", "segunda linha"}},
	}
	tests := []struct {
		name string
		file string
		opts CorpusOptions
		want []Document
	}{
		{"lines", plain, CorpusOptions{}, lines},
		{"paragraphs", plain, CorpusOptions{Format: Paragraphs}, paras},
		{"gzip by magic bytes", gzNamedTxt, CorpusOptions{}, lines},
		{"gzip paragraphs", gz, CorpusOptions{Format: Paragraphs}, paras},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := readAll(t, []string{tc.file}, tc.opts)
			require.NoError(t, err)
			for i := range docs {
				assert.Equal(t, tc.file, docs[i].File)
				docs[i].File = ""
			}
			assert.Equal(t, tc.want, docs)
		})
	}
	t.Run("sentence splitting", func(t *testing.T) {
		p := writeFile(t, dir, "notes.txt", []byte("Dor. Febre. Tosse\n\nAlta. \n"))
		docs, err := readAll(t, []string{p}, CorpusOptions{Split: split, SplitName: "test"})
		require.NoError(t, err)
		require.Len(t, docs, 2)
		assert.Equal(t, []string{"Dor.", "Febre.", "Tosse"}, docs[0].Sentences)
		assert.Equal(t, []string{"Alta."}, docs[1].Sentences)
	})
	t.Run("several files in order", func(t *testing.T) {
		docs, err := readAll(t, []string{plain, gz}, CorpusOptions{Format: Paragraphs})
		require.NoError(t, err)
		require.Len(t, docs, 6)
		assert.Equal(t, plain, docs[0].File)
		assert.Equal(t, gz, docs[5].File)
	})
	t.Run("callback error stops", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := ReadCorpus(context.Background(), []string{plain}, CorpusOptions{}, func(Document) error { n++; return stop })
		assert.Same(t, stop, err)
		assert.Equal(t, 1, n)
	})
	t.Run("splitter panic is an error", func(t *testing.T) {
		_, err := readAll(t, []string{plain}, CorpusOptions{Split: func(string) [][2]int { panic("boom") }, SplitName: "p"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "a.txt:1")
		assert.Contains(t, err.Error(), "boom")
	})
}

func TestReadCorpusBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := writeFile(t, dir, "empty.txt", nil)
	blank := writeFile(t, dir, "blank.txt", []byte("\n \n\t\n"))
	nul := writeFile(t, dir, "bin.dat", []byte("uma linha\nduas\x00\x01\x02\n"))
	latin1 := writeFile(t, dir, "latin1.txt", []byte("ok\nok\ncora\xe7\xe3o\n"))
	full := gzipBytes(t, strings.Repeat("linha de texto comprida\n", 2000))
	truncGz := writeFile(t, dir, "trunc.gz", full[:len(full)/2])
	badGz := writeFile(t, dir, "bad.gz", []byte{0x1f, 0x8b, 0xff, 0xff, 0, 0})
	long := writeFile(t, dir, "long.txt", bytes.Repeat([]byte("a"), 100))
	tests := []struct {
		name  string
		files []string
		opts  CorpusOptions
		is    error
		want  []string
	}{
		{"empty file", []string{empty}, CorpusOptions{}, ErrEmptyCorpus, []string{"empty.txt", "empty corpus"}},
		{"only blank lines", []string{empty, blank}, CorpusOptions{Format: Paragraphs}, ErrEmptyCorpus, []string{"blank.txt"}},
		{"binary", []string{nul}, CorpusOptions{}, nil, []string{"bin.dat:2", "byte offset 14", "binary"}},
		{"not UTF-8", []string{latin1}, CorpusOptions{}, nil, []string{"latin1.txt:3", "byte offset 10", "UTF-8"}},
		{"truncated gzip", []string{truncGz}, CorpusOptions{}, nil, []string{"trunc.gz", "gzip", "unexpected EOF"}},
		{"bad gzip header", []string{badGz}, CorpusOptions{}, nil, []string{"bad.gz", "gzip"}},
		{"missing file", []string{filepath.Join(dir, "nope.txt")}, CorpusOptions{}, os.ErrNotExist, []string{"nope.txt"}},
		{"line too long", []string{long}, CorpusOptions{MaxLineBytes: 50}, nil, []string{"long.txt:1", "longer than 50"}},
		{"split without name", []string{empty}, CorpusOptions{Split: func(string) [][2]int { return nil }}, nil, []string{"SplitName"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(t, tc.files, tc.opts)
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.True(t, strings.HasPrefix(err.Error(), "pretrain: "), err.Error())
		})
	}
}

func TestExpandPaths(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.txt", "a.txt", "c.gz"} {
		writeFile(t, dir, n, []byte("x\n"))
	}
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	writeFile(t, sub, "z.txt", []byte("x\n"))
	writeFile(t, sub, ".hidden", []byte("x\n"))

	got, err := ExpandPaths([]string{filepath.Join(dir, "*.txt"), filepath.Join(dir, "c.gz"), sub})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.txt"), filepath.Join(dir, "c.gz"), filepath.Join(sub, "z.txt")}, got)

	for _, bad := range [][]string{
		{filepath.Join(dir, "*.xml")},
		{filepath.Join(dir, "a.txt"), filepath.Join(dir, "*.txt")},
		{},
		{"["},
	} {
		_, err := ExpandPaths(bad)
		assert.Error(t, err, fmt.Sprint(bad))
	}
}

func TestParseCorpusFormat(t *testing.T) {
	for in, want := range map[string]CorpusFormat{"lines": Lines, "Paragraphs": Paragraphs, " blocks ": Paragraphs} {
		got, err := ParseCorpusFormat(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		back, err := ParseCorpusFormat(got.String())
		require.NoError(t, err)
		assert.Equal(t, want, back)
	}
	_, err := ParseCorpusFormat("xml")
	assert.Error(t, err)
}

// FuzzReadCorpus: any bytes give documents of valid, trimmed, non-empty
// UTF-8 sentences or an error, never a panic.
func FuzzReadCorpus(f *testing.F) {
	f.Add([]byte("Dor. Febre\n\nTosse\r\n"), false)
	f.Add([]byte("\xef\xbb\xbfa\x00b"), true)
	f.Add(gzipBytes(f, "a\nb\n\nc"), true)
	f.Fuzz(func(t *testing.T, data []byte, paragraphs bool) {
		p := filepath.Join(t.TempDir(), "f")
		require.NoError(t, os.WriteFile(p, data, 0o644))
		opts := CorpusOptions{MaxLineBytes: 1 << 12}
		if paragraphs {
			opts.Format = Paragraphs
		}
		err := ReadCorpus(context.Background(), []string{p}, opts, func(d Document) error {
			require.NotEmpty(t, d.Sentences)
			for _, s := range d.Sentences {
				require.NotEmpty(t, s)
				require.Equal(t, strings.TrimSpace(s), s)
				require.True(t, utf8.ValidString(s))
				require.NotContains(t, s, "\n")
			}
			return nil
		})
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "pretrain: corpus"), err.Error())
		}
	})
}
