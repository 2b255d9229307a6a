package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var smallVocab = []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "dor", "##es", "no", "tórax", "febre", "."}

// TestReadVocabLineEnds: vocab.txt files saved with Windows or old Mac line
// ends, a byte order mark, or no final newline read as the plain LF file
// does (Python's text mode, as transformers' load_vocab reads them).
func TestReadVocabLineEnds(t *testing.T) {
	lf := strings.Join(smallVocab, "\n") + "\n"
	for _, tc := range []struct{ name, text string }{
		{"LF", lf},
		{"CRLF", strings.ReplaceAll(lf, "\n", "\r\n")},
		{"CR", strings.ReplaceAll(lf, "\n", "\r")},
		{"mixed", strings.Join(smallVocab[:4], "\r\n") + "\n" + strings.Join(smallVocab[4:], "\n") + "\r\n"},
		{"BOM", "\uFEFF" + lf},
		{"BOM and CRLF", "\uFEFF" + strings.ReplaceAll(lf, "\n", "\r\n")},
		{"no final newline", strings.TrimSuffix(lf, "\n")},
		{"CRLF, no final newline", strings.TrimSuffix(strings.ReplaceAll(lf, "\n", "\r\n"), "\r\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "vocab.txt")
			require.NoError(t, os.WriteFile(p, []byte(tc.text), 0o644))
			got, err := ReadVocab(p)
			require.NoError(t, err)
			assert.Equal(t, smallVocab, got)
			tk, err := LoadVocabFile(p, DefaultOptions())
			require.NoError(t, err)
			en, err := tk.Encode("Febre e dores no tórax.")
			require.NoError(t, err)
			assert.Equal(t, []string{"[CLS]", "[UNK]", "[UNK]", "dor", "##es", "no", "tórax", ".", "[SEP]"}, en.Tokens)
		})
	}
}

// TestVocabMissingSpecialHint: when a special token is missing because its
// line carries white space or is in another case, the error says so.
func TestVocabMissingSpecialHint(t *testing.T) {
	for _, tc := range []struct{ name, unkLine, want string }{
		{"trailing space", "[UNK] ", `special token "[UNK]" missing (line 2 holds "[UNK] ": the line has white space`},
		{"tab", "\t[UNK]", `(line 2 holds "\t[UNK]"`},
		{"other case", "[unk]", `(line 2 holds "[unk]", in another case`},
		{"absent", "unk", `special token "[UNK]" missing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := append([]string(nil), smallVocab...)
			v[1] = tc.unkLine
			p := filepath.Join(t.TempDir(), "vocab.txt")
			require.NoError(t, os.WriteFile(p, []byte(strings.Join(v, "\n")+"\n"), 0o644))
			_, err := LoadVocabFile(p, DefaultOptions())
			require.Error(t, err)
			assert.Contains(t, err.Error(), p)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// tokenizerDir saves a tokenizer over smallVocab and returns the directory.
func tokenizerDir(t *testing.T) string {
	t.Helper()
	tk, err := New(smallVocab, DefaultOptions(), "test")
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, tk.Save(dir))
	return dir
}

// editJSON rewrites dir/name through edit.
func editJSON(t *testing.T, dir, name string, edit func(map[string]any)) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	edit(doc)
	b, err = json.Marshal(doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, b, 0o644))
}

// TestTokenizerFilesEdgeCases: JSON files with a byte order mark load; added
// tokens that HF keeps whole and this tokenizer would split are refused
// with the file and the token named.
func TestTokenizerFilesEdgeCases(t *testing.T) {
	jsonOnly := func(t *testing.T) string { // tokenizer.json without vocab.txt
		dir := tokenizerDir(t)
		require.NoError(t, os.Remove(filepath.Join(dir, "vocab.txt")))
		return dir
	}
	prepend := func(t *testing.T, p string, prefix string) {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(p, append([]byte(prefix), b...), 0o644))
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) string
		want  string // "" = loads like the plain directory
	}{
		{"tokenizer.json with BOM", func(t *testing.T) string {
			dir := jsonOnly(t)
			prepend(t, filepath.Join(dir, "tokenizer.json"), "\uFEFF")
			return dir
		}, ""},
		{"tokenizer_config.json with BOM", func(t *testing.T) string {
			dir := tokenizerDir(t)
			prepend(t, filepath.Join(dir, "tokenizer_config.json"), "\uFEFF")
			return dir
		}, ""},
		{"special added tokens are fine", func(t *testing.T) string {
			dir := tokenizerDir(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(`{"[MASK]": 4}`), 0o644))
			editJSON(t, dir, "tokenizer_config.json", func(m map[string]any) { m["additional_special_tokens"] = []any{} })
			return dir
		}, ""},
		{"tokenizer.json added token beyond the vocabulary", func(t *testing.T) string {
			dir := jsonOnly(t)
			editJSON(t, dir, "tokenizer.json", func(m map[string]any) {
				m["added_tokens"] = append(m["added_tokens"].([]any), map[string]any{"id": 11, "content": "[ENT]", "special": true})
			})
			return dir
		}, `tokenizer.json: added_tokens[5] "[ENT]" (id 11) is not in model.vocab with that id`},
		{"tokenizer.json non-special added token in the vocabulary", func(t *testing.T) string {
			dir := jsonOnly(t)
			editJSON(t, dir, "tokenizer.json", func(m map[string]any) {
				m["added_tokens"] = append(m["added_tokens"].([]any), map[string]any{"id": 9, "content": "febre"})
			})
			return dir
		}, `tokenizer.json: added_tokens[5] "febre": only the special tokens`},
		{"added_tokens.json", func(t *testing.T) string {
			dir := tokenizerDir(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(`{"[ENT]": 11}`), 0o644))
			return dir
		}, `added_tokens.json: added token "[ENT]" (id 11)`},
		{"added_tokens.json not JSON", func(t *testing.T) string {
			dir := tokenizerDir(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(`[ENT]`), 0o644))
			return dir
		}, `added_tokens.json: invalid character`},
		{"additional_special_tokens", func(t *testing.T) string {
			dir := tokenizerDir(t)
			editJSON(t, dir, "tokenizer_config.json", func(m map[string]any) {
				m["additional_special_tokens"] = []any{"[MASK]", map[string]any{"content": "<e>"}}
			})
			return dir
		}, `tokenizer_config.json: additional_special_tokens[1] "<e>"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			tk, err := Load(dir)
			if tc.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), filepath.Join(dir, ""))
				assert.Contains(t, err.Error(), tc.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, smallVocab, tk.Tokens())
		})
	}
}
