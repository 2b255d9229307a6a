package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type hfEnc struct {
	IDs               []int    `json:"ids"`
	Tokens            []string `json:"tokens"`
	Offsets           [][2]int `json:"offsets"`
	WordIDs           []int    `json:"word_ids"`
	TypeIDs           []int    `json:"type_ids"`
	SpecialTokensMask []int    `json:"special_tokens_mask"`
}

type hfFixtures struct {
	Generator string `json:"generator"`
	Texts     []struct {
		Text           string `json:"text"`
		Cased, Uncased hfEnc
	} `json:"texts"`
	Pairs []struct {
		A, B           string
		Cased, Uncased hfEnc
	} `json:"pairs"`
	Words []struct {
		Words          []string `json:"words"`
		Cased, Uncased hfEnc
	} `json:"words"`
}

func loadFixtures(t *testing.T) hfFixtures {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "hf_fixtures.json"))
	require.NoError(t, err)
	var f hfFixtures
	require.NoError(t, json.Unmarshal(data, &f))
	require.NotEmpty(t, f.Texts)
	return f
}

func mbert(t testing.TB, lower bool) *Tokenizer {
	t.Helper()
	o := DefaultOptions()
	o.Lowercase = lower
	tk, err := LoadVocabFile(filepath.Join("testdata", "mbert-cased", "vocab.txt"), o)
	require.NoError(t, err)
	return tk
}

func checkEnc(t *testing.T, name string, want hfEnc, got *Encoding) {
	t.Helper()
	assert.Equal(t, want.IDs, got.IDs, "%s ids", name)
	assert.Equal(t, want.Tokens, got.Tokens, "%s tokens", name)
	assert.Equal(t, want.Offsets, got.Offsets, "%s offsets", name)
	assert.Equal(t, want.WordIDs, got.WordIDs, "%s word ids", name)
	assert.Equal(t, want.TypeIDs, got.TypeIDs, "%s type ids", name)
	assert.Equal(t, want.SpecialTokensMask, got.SpecialTokensMask, "%s special mask", name)
}

// TestHFFixtures asserts identical ids, tokens, offsets, word ids, type ids
// and special-token masks to HF's Rust tokenizer on every fixture.
func TestHFFixtures(t *testing.T) {
	f := loadFixtures(t)
	t.Log(f.Generator)
	cased, uncased := mbert(t, false), mbert(t, true)
	for i, c := range f.Texts {
		for _, m := range []struct {
			tk   *Tokenizer
			want hfEnc
			name string
		}{{cased, c.Cased, "cased"}, {uncased, c.Uncased, "uncased"}} {
			got, err := m.tk.Encode(c.Text)
			require.NoError(t, err)
			checkEnc(t, m.name+" "+jsonQuote(c.Text), m.want, got)
			ids, err := m.tk.EncodeIDs(c.Text)
			require.NoError(t, err)
			want32 := make([]int32, 0, len(m.want.IDs))
			for _, id := range m.want.IDs[1 : len(m.want.IDs)-1] {
				want32 = append(want32, int32(id))
			}
			if len(want32) == 0 {
				want32 = nil
			}
			assert.Equal(t, want32, ids, "%s EncodeIDs %d", m.name, i)
			// byte offsets are the rune offsets converted
			for k, o := range got.Offsets {
				if got.SpecialTokensMask[k] == 1 {
					continue
				}
				b := got.ByteOffsets[k]
				assert.Equal(t, o[0], len([]rune(c.Text[:b[0]])))
				assert.Equal(t, o[1], len([]rune(c.Text[:b[1]])))
			}
		}
	}
	for _, c := range f.Pairs {
		got, err := cased.EncodePair(c.A, c.B)
		require.NoError(t, err)
		checkEnc(t, "pair cased "+c.A, c.Cased, got)
		got, err = uncased.EncodePair(c.A, c.B)
		require.NoError(t, err)
		checkEnc(t, "pair uncased "+c.A, c.Uncased, got)
	}
	for _, c := range f.Words {
		got, err := cased.EncodeWords(c.Words)
		require.NoError(t, err)
		checkEnc(t, "words cased "+jsonQuote(c.Words), c.Cased, got)
		got, err = uncased.EncodeWords(c.Words)
		require.NoError(t, err)
		checkEnc(t, "words uncased "+jsonQuote(c.Words), c.Uncased, got)
	}
}

func jsonQuote(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
