package demodata

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type row struct{ token, pos, lemma, tag string }

// readNER parses every file of NERFS into sentences of rows.
func readNER(t *testing.T) map[string][][]row {
	t.Helper()
	docs := map[string][][]row{}
	names, err := fs.Glob(NERFS(), "*.tsv")
	require.NoError(t, err)
	for _, name := range names {
		f, err := NERFS().Open(name)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		var sents [][]row
		var cur []row
		line := 0
		for sc.Scan() {
			line++
			cells := strings.Split(sc.Text(), "\t")
			require.Len(t, cells, 4, "%s:%d: %q", name, line, sc.Text())
			for _, c := range cells {
				require.NotEmpty(t, strings.TrimSpace(c), "%s:%d: empty cell", name, line)
			}
			cur = append(cur, row{cells[0], cells[1], cells[2], cells[3]})
			if cells[0] == "." || cells[0] == "!" || cells[0] == "?" {
				sents = append(sents, cur)
				cur = nil
			}
		}
		require.NoError(t, sc.Err())
		require.NoError(t, f.Close())
		require.Empty(t, cur, "%s: text after the last sentence end", name)
		require.NotEmpty(t, sents, "%s: empty document", name)
		docs[name] = sents
	}
	return docs
}

func TestNERCorpusFormat(t *testing.T) {
	docs := readNER(t)
	assert.GreaterOrEqual(t, len(docs), 60)
	assert.LessOrEqual(t, len(docs), 120)

	types := map[string]bool{}
	for _, ty := range EntityTypes() {
		types[ty] = true
	}
	entities := map[string]int{}
	nsent := 0
	for name, sents := range docs {
		nsent += len(sents)
		for i, s := range sents {
			prev := "O"
			for j, r := range s {
				where := name + " sentence " + string(rune('0'+i%10)) + " token " + r.token
				switch {
				case r.tag == "O":
				case strings.HasPrefix(r.tag, "B-"):
					require.True(t, types[r.tag[2:]], "%s: unknown type %q", where, r.tag)
					entities[r.tag[2:]]++
				case strings.HasPrefix(r.tag, "I-"):
					require.True(t, types[r.tag[2:]], "%s: unknown type %q", where, r.tag)
					require.True(t, prev == "B-"+r.tag[2:] || prev == r.tag, "%s: %s after %s is not IOB2", where, r.tag, prev)
				default:
					t.Fatalf("%s: bad tag %q", where, r.tag)
				}
				if j == len(s)-1 {
					assert.Equal(t, "O", r.tag, "%s: sentence end tagged", where)
				}
				assert.Equal(t, strings.ToLower(r.token), r.lemma, where)
				prev = r.tag
			}
		}
	}
	assert.GreaterOrEqual(t, nsent, 800)
	assert.LessOrEqual(t, nsent, 1500)
	for _, ty := range []string{"C", "AS", "T", "R", "DT", "THER", "N", "V", "EV", "RA"} {
		assert.GreaterOrEqual(t, entities[ty], 50, "type %s is rare", ty)
	}
	for _, ty := range EntityTypes() {
		assert.Positive(t, entities[ty], "type %s absent", ty)
	}
}

func TestNERCorpusHasSplitDocuments(t *testing.T) {
	docs := readNER(t)
	part := regexp.MustCompile(`^(doc\d+) (\d+)\.tsv$`)
	parts := map[string][]string{}
	for name := range docs {
		if m := part.FindStringSubmatch(name); m != nil {
			parts[m[1]] = append(parts[m[1]], m[2])
		} else {
			assert.Regexp(t, `^doc\d+\.tsv$`, name)
		}
	}
	require.GreaterOrEqual(t, len(parts), 3)
	for doc, ps := range parts {
		sort.Strings(ps)
		assert.Equal(t, []string{"1", "2"}, ps, doc)
		_, whole := docs[doc+".tsv"]
		assert.False(t, whole, "%s is both split and whole", doc)
	}
}

func TestClinicalText(t *testing.T) {
	text := ClinicalText()
	assert.GreaterOrEqual(t, len(text), 150_000)
	assert.LessOrEqual(t, len(text), 300_000)
	notes := strings.Split(strings.TrimSpace(text), "\n\n")
	assert.Greater(t, len(notes), 100)
	for i, note := range notes {
		for _, line := range strings.Split(note, "\n") {
			require.NotEmpty(t, line, "note %d: more than one blank line", i)
			assert.Regexp(t, `[.!?]$`, line, "note %d: a line is one sentence", i)
		}
	}
}

func TestVocab(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(string(Vocab()), "\n"), "\n")
	assert.GreaterOrEqual(t, len(lines), 2000)
	assert.LessOrEqual(t, len(lines), 4000)
	for id, tok := range map[int]string{PadID: "[PAD]", UnkID: "[UNK]", CLSID: "[CLS]", SEPID: "[SEP]", MaskID: "[MASK]", 1: "[unused1]", 99: "[unused99]"} {
		assert.Equal(t, tok, lines[id], "id %d", id)
	}
	index := map[string]int{}
	for i, l := range lines {
		require.NotEmpty(t, l, "line %d", i)
		require.False(t, strings.ContainsAny(l, " \t"), "line %d %q", i, l)
		_, dup := index[l]
		require.False(t, dup, "duplicate %q", l)
		index[l] = i
	}

	var all strings.Builder
	all.WriteString(ClinicalText())
	all.WriteString(SampleSentence())
	for _, sents := range readNER(t) {
		for _, s := range sents {
			for _, r := range s {
				all.WriteString(r.token)
			}
		}
	}
	chars := map[rune]bool{}
	for _, r := range all.String() {
		if !unicode.IsSpace(r) {
			chars[r] = true
		}
	}
	assert.Greater(t, len(chars), 60)
	for r := range chars {
		_, piece := index[string(r)]
		_, cont := index["##"+string(r)]
		assert.True(t, piece && cont, "character %q: piece %v, ##piece %v", r, piece, cont)
	}
	for _, w := range []string{"Paciente", "dor", "febre", "mg", "via", "oral", "##s"} {
		_, ok := index[w]
		assert.True(t, ok, w)
	}
}

func TestVocabIsACopy(t *testing.T) {
	v := Vocab()
	v[0] = 'X'
	assert.Equal(t, byte('['), Vocab()[0])
}

func TestSampleSentenceIsUnseen(t *testing.T) {
	s := SampleSentence()
	require.Regexp(t, `[.!?]$`, s)
	assert.NotContains(t, ClinicalText(), strings.TrimSuffix(s, "."))
	words := strings.Fields(strings.NewReplacer(",", " ,", ".", " .").Replace(s))
	for name, sents := range readNER(t) {
		for _, sent := range sents {
			toks := make([]string, len(sent))
			for i, r := range sent {
				toks[i] = r.token
			}
			assert.NotEqual(t, words, toks, name)
		}
	}
}

func TestWriteNER(t *testing.T) {
	all, err := fs.ReadDir(NERFS(), ".")
	require.NoError(t, err)
	for _, tc := range []struct{ n, want int }{{2, 2}, {0, len(all)}, {len(all) + 5, len(all)}} {
		dir := filepath.Join(t.TempDir(), "ner")
		names, err := WriteNER(dir, tc.n)
		require.NoError(t, err)
		require.Len(t, names, tc.want)
		written, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, written, tc.want)
		want, err := fs.ReadFile(NERFS(), names[0])
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, names[0]))
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}
