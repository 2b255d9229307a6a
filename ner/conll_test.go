package ner

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const conllTwoDocs = `-DOCSTART- -X- -X- O

Paciente NN O
com PREP O
dor NN B-C
torácica ADJ I-C
. PUNCT O

Nega NN B-N
febre NN B-C

-DOCSTART- -X- -X- O

TA NN B-T
normal ADJ B-R
`

func TestReadCoNLL(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.conll": conllTwoDocs})
	c, err := ReadCoNLL(filepath.Join(dir, "a.conll"), CoNLLOptions{})
	require.NoError(t, err)
	require.Len(t, c.Documents, 2)
	assert.Equal(t, "a#1", c.Documents[0].ID)
	assert.Equal(t, "a#1", c.Documents[0].Group)
	assert.Equal(t, "a#2", c.Documents[1].ID)
	assert.Equal(t, [][]string{{"Paciente", "com", "dor", "torácica", "."}, {"Nega", "febre"}}, words(c.Documents[0]))
	assert.Equal(t, [][]string{{"O", "O", "B-C", "I-C", "O"}, {"B-N", "B-C"}}, tags(c.Documents[0]))
	assert.Equal(t, [][]string{{"B-T", "B-R"}}, tags(c.Documents[1]))
	assert.Empty(t, c.Warnings)
	assert.Equal(t, IOB2, c.Scheme)
	assert.Nil(t, c.Documents[0].Sentences[0].Labels)

	// Tag column selected: column 2 holds POS here.
	c, err = ReadCoNLL(filepath.Join(dir, "a.conll"), CoNLLOptions{TagColumn: -1, TokenColumn: 1})
	require.NoError(t, err)
	assert.Equal(t, "B-C", c.Documents[0].Sentences[0].Tags[2])
	_, err = ReadCoNLL(filepath.Join(dir, "a.conll"), CoNLLOptions{TagColumn: 2})
	assert.ErrorContains(t, err, `a.conll:3: malformed tag "NN"`)
}

func TestReadCoNLLNoDocstartTabsAndCRLF(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"x/one.txt": "\uFEFFdor de cabeça\tB-C\r\nhoje\tB-DT\r\n\r\n\r\nok\tO\r\n",
		"x/two.txt": "A O\nB B-X\n",
		"x/.hidden": "junk",
	})
	c, err := ReadCoNLL(filepath.Join(dir, "x"), CoNLLOptions{})
	require.NoError(t, err)
	require.Len(t, c.Documents, 2)
	assert.Equal(t, "one", c.Documents[0].ID)
	assert.Equal(t, [][]string{{"dor de cabeça", "hoje"}, {"ok"}}, words(c.Documents[0]))
	assert.Equal(t, 2, c.Report.Files)

	c, err = ReadCoNLL(filepath.Join(dir, "x", "t*.txt"), CoNLLOptions{})
	require.NoError(t, err)
	require.Len(t, c.Documents, 1)
	assert.Equal(t, "two", c.Documents[0].ID)
}

func TestReadCoNLLSchemes(t *testing.T) {
	dir := writeFiles(t, map[string]string{"e.txt": "a S-X\nb B-Y\nc E-Y\n"})
	_, err := ReadCoNLL(filepath.Join(dir, "e.txt"), CoNLLOptions{})
	assert.ErrorContains(t, err, "prefix S- is not used by IOB2")
	c, err := ReadCoNLL(filepath.Join(dir, "e.txt"), CoNLLOptions{Scheme: IOBES})
	require.NoError(t, err)
	require.NoError(t, c.Convert(IOB2))
	assert.Equal(t, [][]string{{"B-X", "B-Y", "I-Y"}}, tags(c.Documents[0]))
	assert.Equal(t, IOB2, c.Scheme)
	assert.Equal(t, []string{"O", "B-X", "B-Y", "I-X", "I-Y"}, Labels(c, IOB2))
	assert.Equal(t, []string{"O", "B-X", "B-Y", "E-X", "E-Y", "I-X", "I-Y", "S-X", "S-Y"}, Labels(c, IOBES))
}

func TestReadCoNLLInvalidTransitions(t *testing.T) {
	dir := writeFiles(t, map[string]string{"i.txt": "a O\nb I-X\nc I-X\n"})
	c, err := ReadCoNLL(filepath.Join(dir, "i.txt"), CoNLLOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, c.Report.InvalidTransitions)
	require.Len(t, c.Warnings, 1)
	assert.Contains(t, c.Warnings[0], "i.txt:1")
	assert.Equal(t, []string{"O", "I-X", "I-X"}, c.Documents[0].Sentences[0].Tags, "kept as read")
	assert.Equal(t, 1, c.RepairTags())
	assert.Equal(t, []string{"O", "B-X", "I-X"}, c.Documents[0].Sentences[0].Tags)
}

func TestReadCoNLLMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, content, strictErr string
		lenientWords             [][]string
		lenientTags              [][]string
	}{
		{"missing tag column", "a O\nb\nc B-X\n", "m.txt:2: missing column", [][]string{{"a", "b", "c"}}, [][]string{{"O", "O", "B-X"}}},
		{"unknown tag", "a O\nb Q-X\n", `m.txt:2: tag "Q-X"`, [][]string{{"a", "b"}}, [][]string{{"O", "O"}}},
		{"malformed tag", "a O\nb B_X\n", `m.txt:2: malformed tag "B_X"`, [][]string{{"a", "b"}}, [][]string{{"O", "O"}}},
		{"empty document", "-DOCSTART-\n\n-DOCSTART-\na O\n", "m.txt:1: empty document", [][]string{{"a"}}, [][]string{{"O"}}},
		{"trailing empty document", "-DOCSTART-\na O\n\n-DOCSTART-\n\n", "m.txt:4: empty document", [][]string{{"a"}}, [][]string{{"O"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"m.txt": tc.content})
			_, err := ReadCoNLL(filepath.Join(dir, "m.txt"), CoNLLOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.strictErr)
			assert.True(t, strings.HasPrefix(err.Error(), "ner: read "), err.Error())
			c, err := ReadCoNLL(filepath.Join(dir, "m.txt"), CoNLLOptions{Lenient: true})
			require.NoError(t, err)
			require.Len(t, c.Documents, 1)
			assert.Equal(t, tc.lenientWords, words(c.Documents[0]))
			assert.Equal(t, tc.lenientTags, tags(c.Documents[0]))
			assert.Equal(t, 1, c.Report.Skipped)
			require.NotEmpty(t, c.Warnings)
			assert.Contains(t, c.Warnings[0], tc.strictErr)
		})
	}
	dir := writeFiles(t, map[string]string{"empty.txt": "\n\n"})
	_, err := ReadCoNLL(filepath.Join(dir, "empty.txt"), CoNLLOptions{})
	assert.ErrorContains(t, err, "empty.txt: empty document")
	_, err = ReadCoNLL(filepath.Join(dir, "empty.txt"), CoNLLOptions{Lenient: true})
	assert.ErrorContains(t, err, "no documents")
	_, err = ReadCoNLL(filepath.Join(dir, "nothing-*.txt"), CoNLLOptions{})
	assert.ErrorContains(t, err, "no input files")
	_, err = ReadCoNLL(filepath.Join(dir, "absent.txt"), CoNLLOptions{})
	assert.ErrorContains(t, err, "absent.txt")
	_, err = ReadCoNLL(filepath.Join(dir, "empty.txt"), CoNLLOptions{TokenColumn: -1})
	assert.ErrorContains(t, err, "TokenColumn")
	_, err = ReadCoNLL(filepath.Join(dir, "empty.txt"), CoNLLOptions{TagColumn: 1})
	assert.ErrorContains(t, err, "TagColumn")
}

func TestWriteCoNLLRoundTrip(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.conll": conllTwoDocs, "b.conll": "24 h\tB-DT\n"})
	c, err := ReadCoNLL(dir, CoNLLOptions{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteCoNLL(&buf, c))
	out := writeFiles(t, map[string]string{"all.conll": buf.String()})
	back, err := ReadCoNLL(filepath.Join(out, "all.conll"), CoNLLOptions{})
	require.NoError(t, err)
	require.Len(t, back.Documents, len(c.Documents))
	for i := range c.Documents {
		assert.Equal(t, words(c.Documents[i]), words(back.Documents[i]))
		assert.Equal(t, tags(c.Documents[i]), tags(back.Documents[i]))
	}
	assert.Equal(t, "24 h", back.Documents[2].Sentences[0].Words[0])

	bad := &Corpus{Documents: []Document{{ID: "d", Sentences: []Sentence{{Words: []string{"a\tb"}, Tags: []string{"O"}}}}}}
	assert.ErrorContains(t, WriteCoNLL(&buf, bad), "cannot be written")
	bad.Documents[0].Sentences[0].Words = []string{"a", "b"}
	assert.ErrorContains(t, WriteCoNLL(&buf, bad), "2 words but 1 tags")
	assert.Error(t, WriteCoNLL(&buf, nil))
}

func FuzzReadCoNLL(f *testing.F) {
	f.Add(conllTwoDocs, 0, false)
	f.Add("a O\n\nb\tI-X\tz\n-DOCSTART-\n", -2, true)
	f.Add("\uFEFF\r\n\t\t\n", 3, false)
	f.Fuzz(func(t *testing.T, content string, tagCol int, lenient bool) {
		var rep Report
		p := &problems{lenient: lenient}
		docs, err := parseCoNLL(strings.NewReader(content), "fuzz", "fuzz", CoNLLOptions{TagColumn: tagCol % 5, Lenient: lenient}, p, &rep)
		if err != nil {
			return
		}
		for _, d := range docs {
			require.NotEmpty(t, d.Sentences)
			for _, s := range d.Sentences {
				require.Equal(t, len(s.Words), len(s.Tags))
				for _, tag := range s.Tags {
					require.NoError(t, checkTag(tag, IOB2))
				}
			}
		}
	})
}

func ExampleReadCoNLL() {
	c, err := ReadCoNLL("testdata/conll/sample.conll", CoNLLOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	st := ComputeStats(c)
	fmt.Println(st.Documents, st.Sentences, st.Tokens, st.Entities)
	// Output: 2 3 9 map[C:2 N:1 R:1 T:1]
}
