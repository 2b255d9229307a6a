package tokenize

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInvalidUTF8(t *testing.T) {
	tk := mbert(t, false)
	for _, s := range []string{"\xff", "a\x80b", "dor \xe2\x82 torácica", "\xc3", "ação\x96x", "İ\xffİ"} {
		for _, lower := range []bool{false, true} {
			tk := tk
			if lower {
				tk = mbert(t, true)
			}
			assert.NotPanics(t, func() {
				e, err := tk.Encode(s)
				require.NoError(t, err)
				for k, o := range e.ByteOffsets {
					assert.LessOrEqual(t, o[1], len(s), "token %d", k)
				}
			})
		}
	}
	// invalid bytes are deleted like U+FFFD and count as one rune each
	e, err := tk.Encode("a\xffb c")
	require.NoError(t, err)
	assert.Equal(t, []string{"[CLS]", "ab", "c", "[SEP]"}, e.Tokens)
	assert.Equal(t, [][2]int{{0, 0}, {0, 3}, {4, 5}, {0, 0}}, e.Offsets)
	err = ValidateUTF8("ação\xffok")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "byte 6")
	assert.NoError(t, ValidateUTF8("ação"))
}

func TestVocabErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "vocab.txt")
	require.NoError(t, os.WriteFile(p, []byte("[PAD]\n[UNK]\n[CLS]\n[SEP]\na\n"), 0o644))
	_, err := LoadVocabFile(p, DefaultOptions())
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	assert.Contains(t, err.Error(), `"[MASK]"`)

	_, err = LoadVocabFile(filepath.Join(dir, "missing.txt"), DefaultOptions())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.txt")

	_, err = Load(filepath.Join(dir, "nodir"))
	require.Error(t, err)

	o := DefaultOptions()
	o.MaxLen = 1
	_, err = LoadVocabFile(p, o)
	assert.ErrorContains(t, err, "MaxLen")
}

func TestSaveLoadRoundTrip(t *testing.T) {
	tk := mbert(t, false)
	dir := t.TempDir()
	require.NoError(t, tk.Save(dir))
	for _, f := range []string{"vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json"} {
		assert.FileExists(t, filepath.Join(dir, f))
	}
	back, err := Load(dir)
	require.NoError(t, err)
	// tokenizer.json alone
	jdir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(jdir, "tokenizer.json"), data, 0o644))
	fromJSON, err := Load(jdir)
	require.NoError(t, err)
	text := "Paciente com dor torácica [MASK] há 2 dias, PA 130x80 mmHg."
	want, _ := tk.Encode(text)
	for _, other := range []*Tokenizer{back, fromJSON} {
		got, _ := other.Encode(text)
		assert.Equal(t, want, got)
		assert.Equal(t, tk.VocabSize(), other.VocabSize())
	}
	// uncased options survive the round trip
	u := mbert(t, true)
	udir := t.TempDir()
	require.NoError(t, u.Save(udir))
	ub, err := Load(udir)
	require.NoError(t, err)
	assert.True(t, ub.Options().Lowercase)
	assert.Nil(t, ub.Options().StripAccents)
}

func TestAccessors(t *testing.T) {
	tk := mbert(t, false)
	assert.Equal(t, 119547, tk.VocabSize())
	assert.Equal(t, []int{0, 100, 101, 102, 103}, []int{tk.PAD(), tk.UNK(), tk.CLS(), tk.SEP(), tk.MASK()})
	id, ok := tk.TokenID("##iente")
	assert.True(t, ok)
	assert.Equal(t, "##iente", tk.Token(id))
	assert.Equal(t, "", tk.Token(-1))
	assert.True(t, tk.IsSpecial(tk.MASK()))
}

func TestSplitWords(t *testing.T) {
	text := "Dor\u00a0torácica (8/10), 头痛!\u0096x\u0096y"
	got := SplitWords(text)
	var words []string
	for _, w := range got {
		words = append(words, w.Text)
		assert.Equal(t, w.Text, string([]rune(text)[w.Start:w.End]))
		assert.Equal(t, w.Text, text[w.ByteStart:w.ByteEnd])
	}
	assert.Equal(t, []string{"Dor", "torácica", "(", "8", "/", "10", ")", ",", "头", "痛", "!", "x\u0096y"}, words)
}

func TestAlignLabels(t *testing.T) {
	w := []int{-1, 0, 0, 1, 2, 2, 2, -1, -1}
	assert.Equal(t, []int{-100, 5, -100, 6, 7, -100, -100, -100, -100}, AlignLabels(w, []int{5, 6, 7}, false))
	assert.Equal(t, []int{-100, 5, 5, 6, 7, 7, 7, -100, -100}, AlignLabels(w, []int{5, 6, 7}, true))
}

func TestTruncationAndPadding(t *testing.T) {
	o := DefaultOptions()
	o.MaxLen, o.Truncate = 6, true
	tk, err := LoadVocabFile(filepath.Join("testdata", "mbert-cased", "vocab.txt"), o)
	require.NoError(t, err)
	e, _ := tk.Encode("um dois três quatro cinco seis")
	assert.Equal(t, 6, e.Len())
	assert.Equal(t, "[SEP]", e.Tokens[5])
	p, _ := tk.EncodePair("um dois três quatro", "cinco")
	assert.Equal(t, []string{"[CLS]", "um", "dois", "[SEP]", "cinco", "[SEP]"}, p.Tokens)
	assert.Equal(t, []int{0, 0, 0, 0, 1, 1}, p.TypeIDs)
	a, _ := tk.Encode("um")
	require.NoError(t, tk.PadBatch([]*Encoding{a, e}, 0))
	assert.Equal(t, []int{1, 1, 1, 0, 0, 0}, a.AttentionMask)
	assert.Equal(t, []int{101, 10293, 102, 0, 0, 0}, a.IDs)
	assert.Equal(t, -1, a.WordIDs[5])
	assert.Error(t, tk.PadBatch([]*Encoding{e}, 3))
}

func TestWindows(t *testing.T) {
	tk := mbert(t, false)
	words := strings.Fields("Paciente com dor torácica há dois dias , nega febre e tosse .")
	full, _ := tk.EncodeWords(words)
	wins, err := tk.EncodeWordsWindows(words, 8, 2)
	require.NoError(t, err)
	require.Greater(t, len(wins), 1)
	// every window fits, starts at a word boundary, and together they cover every sub-token
	covered := map[[2]int]bool{}
	for _, w := range wins {
		e := w.Encoding
		assert.LessOrEqual(t, e.Len(), 8)
		assert.Equal(t, "[CLS]", e.Tokens[0])
		assert.Equal(t, "[SEP]", e.Tokens[e.Len()-1])
		for i := 1; i < e.Len()-1; i++ {
			covered[[2]int{e.WordIDs[i], e.IDs[i]}] = true
		}
	}
	for i := 1; i < full.Len()-1; i++ {
		assert.True(t, covered[[2]int{full.WordIDs[i], full.IDs[i]}], "token %d", i)
	}
	src := AssignWords(wins, len(words))
	for w, s := range src {
		require.GreaterOrEqual(t, s.Window, 0, "word %d", w)
		assert.Equal(t, w, wins[s.Window].Encoding.WordIDs[s.Token])
	}
	// a sentence that fits is one window covering all words
	one, err := tk.EncodeWordsWindows(words[:3], 256, 64)
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.Equal(t, Window{Encoding: one[0].Encoding, FirstWord: 0, EndWord: 3}, one[0])
	// a word longer than a window is cut, nothing is lost
	long, err := tk.EncodeWordsWindows([]string{"pneumoultramicroscopicossilicovulcanoconiótico"}, 5, 0)
	require.NoError(t, err)
	n := 0
	for _, w := range long {
		n += w.Encoding.Len() - 2
	}
	fl, _ := tk.EncodeWords([]string{"pneumoultramicroscopicossilicovulcanoconiótico"})
	assert.Equal(t, fl.Len()-2, n)
	_, err = tk.EncodeWordsWindows(words, 2, 0)
	assert.Error(t, err)
}

func TestEncodeBatch(t *testing.T) {
	tk := mbert(t, false)
	texts := make([]string, 300)
	for i := range texts {
		texts[i] = fmt.Sprintf("Paciente %d com dor torácica há %d dias.", i, i%7)
	}
	got := tk.EncodeBatch(texts, 3)
	ids := tk.EncodeIDsBatch(texts, 2)
	for i, s := range texts {
		want, _ := tk.Encode(s)
		assert.Equal(t, want, got[i])
		w, _ := tk.EncodeIDs(s)
		assert.Equal(t, w, ids[i])
	}
}

func TestTrainWordPiece(t *testing.T) {
	corpus := []string{"paciente com dor torácica", "paciente com febre", "dor abdominal", "pacientes com dor", "febre e dor"}
	o := DefaultTrainOptions()
	o.VocabSize = 60
	a, err := TrainWordPiece(corpus, o)
	require.NoError(t, err)
	b, err := TrainWordPiece(corpus, o)
	require.NoError(t, err)
	assert.Equal(t, a.Tokens(), b.Tokens(), "deterministic")
	assert.Equal(t, []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}, a.Tokens()[:5])
	assert.LessOrEqual(t, a.VocabSize(), 60)
	_, ok := a.TokenID("dor")
	assert.True(t, ok, "frequent word learned")
	e, _ := a.Encode("paciente com dor")
	assert.NotContains(t, e.Tokens, "[UNK]")
	o.VocabSize = 3
	_, err = TrainWordPiece(corpus, o)
	assert.Error(t, err)
}

func TestUnicodeStripTable(t *testing.T) {
	// strip_accents of every NFD-unstable code point equals HF's result
	data, err := os.ReadFile(filepath.Join("testdata", "unicode_strip.json"))
	require.NoError(t, err)
	var f struct {
		Strip [][2]any `json:"strip"`
	}
	require.NoError(t, jsonUnmarshal(data, &f))
	require.Greater(t, len(f.Strip), 1000)
	bad := 0
	for _, e := range f.Strip {
		r := rune(e[0].(float64))
		got := string(normalizeRune(nil, r, true, false, nil))
		if got != e[1].(string) {
			bad++
			if bad < 10 {
				t.Errorf("strip U+%04X = %q, HF %q", r, got, e[1])
			}
		}
	}
}
