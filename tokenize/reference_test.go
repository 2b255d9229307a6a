package tokenize

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file keeps the straightforward per-rune implementation the package
// started from (checked against HF on the fixtures): one rune at a time
// through classOfSlow and normalizeRune, and WordPiece by map lookups from
// the longest candidate down, as HF's wordpiece/mod.rs. The fast paths (the
// ASCII runs, the normTable, the trie) are tested against it on random text.

type refVocab struct {
	start, cont map[string]int32
}

func newRefVocab(tokens []string) *refVocab {
	v := &refVocab{start: map[string]int32{}, cont: map[string]int32{}}
	for i, t := range tokens {
		v.start[t] = int32(i)
		if strings.HasPrefix(t, contPrefix) && len(t) > len(contPrefix) {
			v.cont[t[len(contPrefix):]] = int32(i)
		}
	}
	return v
}

// refPiece: id and rune range of the word.
type refPiece struct{ id, rs, re int32 }

func (v *refVocab) wordPiece(w []rune, unk int32, maxChars int) []refPiece {
	n := len(w)
	if n == 0 {
		return nil
	}
	if n > maxChars {
		return []refPiece{{unk, 0, int32(n)}}
	}
	var out []refPiece
	for start := 0; start < n; {
		m := v.start
		if start > 0 {
			m = v.cont
		}
		found := int32(-1)
		end := n
		for ; end > start; end-- {
			if id, ok := m[string(w[start:end])]; ok {
				found = id
				break
			}
		}
		if found < 0 {
			return []refPiece{{unk, 0, int32(n)}}
		}
		out = append(out, refPiece{found, int32(start), int32(end)})
		start = end
	}
	return out
}

type refWord struct {
	w    []rune
	orig []origin // per rune
}

// refSplit is BertNormalizer + BertPreTokenizer, one rune at a time.
func refSplit(text string, baseByte, baseRune int32, strip, lower, chinese bool) ([]refWord, int32) {
	var out []refWord
	var cur refWord
	flush := func() {
		if len(cur.w) > 0 {
			out = append(out, cur)
		}
		cur = refWord{}
	}
	add := func(r rune, o origin) {
		cur.w = append(cur.w, r)
		cur.orig = append(cur.orig, o)
	}
	rpos := baseRune
	for i := 0; i < len(text); {
		c, size := utf8.DecodeRuneInString(text[i:])
		o := origin{baseByte + int32(i), baseByte + int32(i+size), rpos}
		i += size
		rpos++
		cls := classOfSlow(c)
		switch cls {
		case clsControl:
			continue
		case clsSpace:
			flush()
			continue
		}
		cjk := cls == clsCJK && chinese
		if cjk {
			flush()
		}
		for _, nc := range normalizeRune(nil, c, strip, lower, nil) {
			if isPunct(nc) {
				flush()
				add(nc, o)
				flush()
				continue
			}
			add(nc, o)
		}
		if cjk {
			flush()
		}
	}
	flush()
	return out, rpos
}

type refEnc struct {
	ids, words []int
	rOff, bOff [][2]int
}

// refEncode is Encode's content (no [CLS]/[SEP]) by the reference path.
func refEncode(t *Tokenizer, v *refVocab, text string) refEnc {
	var e refEnc
	nword := 0
	o := t.opts
	words := func(s string, bb, br int32) int32 {
		ws, r := refSplit(s, bb, br, o.stripAccents(), o.Lowercase, o.TokenizeChinese)
		for _, w := range ws {
			for _, p := range v.wordPiece(w.w, t.unk, o.MaxCharsPerWord) {
				f, l := w.orig[p.rs], w.orig[p.re-1]
				e.ids = append(e.ids, int(p.id))
				e.rOff = append(e.rOff, [2]int{int(f.rs), int(l.rs) + 1})
				e.bOff = append(e.bOff, [2]int{int(f.bs), int(l.be)})
				e.words = append(e.words, nword)
			}
			nword++
		}
		return r
	}
	prev, rprev := 0, int32(0)
	for i := 0; i < len(text); i++ {
		k := -1
		for j, s := range t.specials {
			if strings.HasPrefix(text[i:], s) {
				k = j
				break
			}
		}
		if k < 0 {
			continue
		}
		r := words(text[prev:i], int32(prev), rprev)
		n, rn := len(t.specials[k]), int32(utf8.RuneCountInString(t.specials[k]))
		e.ids = append(e.ids, int(t.specialIDs[k]))
		e.rOff = append(e.rOff, [2]int{int(r), int(r + rn)})
		e.bOff = append(e.bOff, [2]int{i, i + n})
		e.words = append(e.words, nword)
		nword++
		rprev = r + rn
		i += n - 1
		prev = i + 1
	}
	words(text[prev:], int32(prev), rprev)
	return e
}

// randomText mixes ASCII words, vocabulary pieces, accents, punctuation,
// every kind of whitespace and control, marks, CJK, emoji, literal special
// tokens, invalid bytes and random code points.
func randomText(rng *rand.Rand, vocabToks []string, asciiOnly bool) string {
	ascii := []string{"Paciente", "dor", "PA", "130x80", "mmHg", "FC", "88", "bpm", "0,5", "mg/dL", "Dr.", "p.ex.", "2x/dia", "MMII", "++/4+", "(ref.", "0,7-1,3)", "SatO2", "96%", "[MASK]", "[CLS]", "[UNK]", "[MAS", "[", "]", "##", "#x", "a", "ABC", "antibioticoterapia", "HIPERTENSÃO", "x", strings.Repeat("ab", 60)}
	uni := []string{"ação", "torácica", "ÉÇÃÕ", "coração", "São", "ªº", "°C", "mm³", "µg", "–", "—", "“aspas”", "…", "•", "€", "½", "İstanbul", "ß", "ẞ", "Σίσυφος", "Ωμέγα", "ДНК", "e\u0301", "a\u0308\u0323", "\u0301", "\u037e", "\u0387", "\u1fc1", "糖尿病", "高血压", "\U00020000", "😀", "👩\u200d⚕️", "한국어", "ﬁ", "Ⅳ", "\u00ad", "\u200b", "\ufeff", "\ufffd", "\u2028", "\u00a0", "\u3000", "\u2003", "\u0600", "\U000e0041", "\ue000", "\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\u0378", "\u0e01\u0e48", "Ǆ", "ǅ", "Ὰ", "ᾈ", "\u0130\u0307"}
	seps := []string{" ", " ", " ", "  ", "\t", "\n", "\r\n", ".", ",", ";", ":", "/", "-", "(", ")", "\x00", "\x01", "\x7f", ""}
	var b strings.Builder
	n := rng.IntN(30)
	for range n {
		switch k := rng.IntN(10); {
		case k < 4 || asciiOnly && k < 7:
			b.WriteString(ascii[rng.IntN(len(ascii))])
		case k < 7 && !asciiOnly:
			b.WriteString(uni[rng.IntN(len(uni))])
		case k < 9:
			// glue vocabulary pieces into words
			for range 1 + rng.IntN(3) {
				tok := strings.TrimPrefix(vocabToks[rng.IntN(len(vocabToks))], contPrefix)
				if asciiOnly && !isASCII(tok) {
					continue
				}
				b.WriteString(tok)
			}
		default:
			if asciiOnly {
				b.WriteByte(byte(rng.IntN(128)))
			} else {
				b.WriteRune(rune(rng.IntN(0x30000)))
			}
		}
		b.WriteString(seps[rng.IntN(len(seps))])
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// TestFastPathsMatchReference compares Encode, EncodeIDs and SplitWords
// with the reference path on seeded random texts, in every mode.
func TestFastPathsMatchReference(t *testing.T) {
	tokens, err := ReadVocab("testdata/mbert-cased/vocab.txt")
	require.NoError(t, err)
	yes, no := true, false
	modes := []struct {
		name string
		set  func(*Options)
	}{
		{"cased", func(*Options) {}},
		{"uncased", func(o *Options) { o.Lowercase = true }},
		{"lower-keep-accents", func(o *Options) { o.Lowercase, o.StripAccents = true, &no }},
		{"strip-only", func(o *Options) { o.StripAccents = &yes }},
		{"no-chinese-short-words", func(o *Options) { o.TokenizeChinese, o.MaxCharsPerWord = false, 7 }},
	}
	ref := newRefVocab(tokens)
	for mi, m := range modes {
		o := DefaultOptions()
		m.set(&o)
		tk, err := New(tokens, o, "mbert")
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(uint64(mi), 42))
		for i := range 600 {
			text := randomText(rng, tokens, i%3 == 0)
			want := refEncode(tk, ref, text)
			got, err := tk.Encode(text)
			require.NoError(t, err)
			n := got.Len()
			require.Equal(t, want.ids, nilIfEmpty(got.IDs[1:n-1]), "%s %q ids", m.name, text)
			require.Equal(t, want.rOff, nilIfEmpty(got.Offsets[1:n-1]), "%s %q offsets", m.name, text)
			require.Equal(t, want.bOff, nilIfEmpty(got.ByteOffsets[1:n-1]), "%s %q byte offsets", m.name, text)
			require.Equal(t, want.words, nilIfEmpty(got.WordIDs[1:n-1]), "%s %q word ids", m.name, text)
			ids, err := tk.EncodeIDs(text)
			require.NoError(t, err)
			require.Equal(t, len(want.ids), len(ids))
			for k := range ids {
				require.Equal(t, want.ids[k], int(ids[k]))
			}
			if mi == 0 {
				ws, _ := refSplit(text, 0, 0, false, false, true)
				got := SplitWords(text)
				require.Len(t, got, len(ws), "%q", text)
				for k, w := range ws {
					f, l := w.orig[0], w.orig[len(w.orig)-1]
					assert.Equal(t, Word{Text: text[f.bs:l.be], Start: int(f.rs), End: int(l.rs) + 1, ByteStart: int(f.bs), ByteEnd: int(l.be)}, got[k])
				}
			}
		}
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TestTrieVocabularies checks the WordPiece trie on small vocabularies:
// no "##" pieces at all, a token listed twice (the last id wins, as
// transformers' load_vocab), an empty line, and multi-byte prefixes.
func TestTrieVocabularies(t *testing.T) {
	specials := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	cases := []struct {
		name   string
		vocab  []string
		text   string
		tokens []string
		ids    []int
	}{
		{"no continuation pieces", []string{"ab", "a", "b"}, "ab ba a", []string{"ab", "[UNK]", "a"}, []int{5, 1, 6}},
		{"duplicate keeps last id", []string{"ab", "##c", "ab", ""}, "abc", []string{"ab", "##c"}, []int{7, 6}},
		{"longest match on rune boundaries", []string{"a", "aç", "##ç", "##ão", "##ã", "##o"}, "açãoç", []string{"aç", "##ão", "##ç"}, []int{6, 8, 7}},
		{"no path is one unk", []string{"a", "##b"}, "abc ab", []string{"[UNK]", "a", "##b"}, []int{1, 5, 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vocab := append(append([]string(nil), specials...), c.vocab...)
			tk, err := New(vocab, DefaultOptions(), c.name)
			require.NoError(t, err)
			e, err := tk.Encode(c.text)
			require.NoError(t, err)
			assert.Equal(t, c.tokens, e.Tokens[1:e.Len()-1])
			assert.Equal(t, c.ids, e.IDs[1:e.Len()-1])
			want := refEncode(tk, newRefVocab(vocab), c.text)
			assert.Equal(t, want.ids, e.IDs[1:e.Len()-1])
			last := map[string]int{}
			for i, tok := range vocab {
				last[tok] = i
			}
			for tok, id := range last {
				got, ok := tk.TokenID(tok)
				assert.True(t, ok, tok)
				assert.Equal(t, id, got, tok)
			}
			_, ok := tk.TokenID("zz")
			assert.False(t, ok)
		})
	}
}

// TestBatchMatchesSingle: the batch encoders give what one-by-one encoding
// gives, for any number of workers, across chunk boundaries and with empty
// texts (nil ids).
func TestBatchMatchesSingle(t *testing.T) {
	tk := mbert(t, false)
	tokens := tk.Tokens()
	rng := rand.New(rand.NewPCG(7, 7))
	texts := make([]string, 2*batchChunk+5)
	for i := range texts {
		if i%9 != 4 {
			texts[i] = randomText(rng, tokens, i%2 == 0)
		}
	}
	texts[4] = "\x00\u200b" // only controls: no token
	for _, workers := range []int{0, 1, 2, 5, 100} {
		ids := tk.EncodeIDsBatch(texts, workers)
		encs := tk.EncodeBatch(texts, workers)
		require.Len(t, ids, len(texts))
		require.Len(t, encs, len(texts))
		for i, s := range texts {
			want, _ := tk.EncodeIDs(s)
			require.Equal(t, want, ids[i], "workers %d text %d", workers, i)
			require.Equal(t, len(ids[i]), cap(ids[i]), "own capacity")
			wantEnc, _ := tk.Encode(s)
			require.Equal(t, wantEnc, encs[i], "workers %d text %d", workers, i)
		}
	}
	assert.Empty(t, tk.EncodeIDsBatch(nil, 0))
	assert.Empty(t, tk.EncodeBatch(nil, 0))

	// truncation, and padding one encoding leaves its chunk neighbours alone
	o := DefaultOptions()
	o.Truncate, o.MaxLen = true, 8
	short, err := New(tokens, o, "mbert")
	require.NoError(t, err)
	encs := short.EncodeBatch(texts, 2)
	for i, s := range texts {
		want, _ := short.Encode(s)
		require.Equal(t, want, encs[i], "truncated text %d", i)
	}
	next := *encs[1]
	encs[0].Pad(40, short.PAD(), "[PAD]")
	assert.Equal(t, 40, encs[0].Len())
	want1, _ := short.Encode(texts[1])
	assert.Equal(t, want1, encs[1])
	assert.Equal(t, next, *encs[1])
}

// FuzzFastPathsMatchReference: go test -fuzz FuzzFastPaths -fuzztime 20s ./tokenize
func FuzzFastPathsMatchReference(f *testing.F) {
	for _, s := range []string{"", "Paciente com dor torácica há 2 dias.", "İ\xffİ a\u0301 [MASK]x", "糖尿病😀\u00a0ß\u037e", "\xc3(\xe2\x82"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	tokens, err := ReadVocab("testdata/mbert-cased/vocab.txt")
	require.NoError(f, err)
	ref := newRefVocab(tokens)
	var tks [2]*Tokenizer
	for i, lower := range []bool{false, true} {
		o := DefaultOptions()
		o.Lowercase = lower
		tks[i], err = New(tokens, o, "mbert")
		require.NoError(f, err)
	}
	f.Fuzz(func(t *testing.T, text string, lower bool) {
		tk := tks[0]
		if lower {
			tk = tks[1]
		}
		want := refEncode(tk, ref, text)
		got, err := tk.Encode(text)
		require.NoError(t, err)
		n := got.Len()
		require.Equal(t, want.ids, nilIfEmpty(got.IDs[1:n-1]))
		require.Equal(t, want.rOff, nilIfEmpty(got.Offsets[1:n-1]))
		require.Equal(t, want.bOff, nilIfEmpty(got.ByteOffsets[1:n-1]))
		require.Equal(t, want.words, nilIfEmpty(got.WordIDs[1:n-1]))
	})
}
