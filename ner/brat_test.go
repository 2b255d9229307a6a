package ner

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const bratText = "Câncer de mama esquerda.\nDor no braço e perna."

func bratAnn(t *testing.T, lines ...string) string {
	return strings.Join(lines, "\n") + "\n"
}

func TestReadBRAT(t *testing.T) {
	s := func(sub string, n int) string {
		a, b := runeSpan(t, bratText, sub, n)
		return fmt.Sprintf("%d %d", a, b)
	}
	ann := bratAnn(t,
		"T1\tDisorder "+s("Câncer de mama esquerda", 0)+"\tCâncer de mama esquerda",
		"T2\tAnatomy "+s("mama esquerda", 0)+"\tmama esquerda",
		"T3\tDisorder "+s("Dor", 0)+";"+s("perna", 0)+"\tDor perna",
		"T4\tAnatomy "+s("braço", 0)+"\tbraço",
		"A1\tNegated T3",
		"R1\tLocation Arg1:T3 Arg2:T4",
		"#1\tAnnotatorNotes T1\tnote",
		"N1\tReference T1 UMLS:C0006142\tcancer",
		"",
	)
	dir := writeFiles(t, map[string]string{"doc.txt": bratText, "doc.ann": ann, "annotation.conf": "[entities]"})
	c, err := ReadBRAT(dir, BRATOptions{})
	require.NoError(t, err)
	require.Len(t, c.Documents, 1)
	d := c.Documents[0]
	assert.Equal(t, "doc", d.ID)
	assert.Equal(t, [][]string{
		{"Câncer", "de", "mama", "esquerda", "."},
		{"Dor", "no", "braço", "e", "perna", "."},
	}, words(d))
	assert.Equal(t, [][]string{
		{"B-Disorder", "I-Disorder", "I-Disorder", "I-Disorder", "O"},
		{"B-Disorder", "I-Disorder", "I-Disorder", "I-Disorder", "I-Disorder", "O"},
	}, tags(d), "outermost span; discontinuous tagged over its extent")
	assert.Equal(t, []string{"B-Anatomy", "I-Disorder"}, d.Sentences[0].Labels[2])
	assert.Equal(t, []string{"B-Anatomy", "I-Disorder"}, d.Sentences[1].Labels[2])
	r := c.Report
	assert.Equal(t, 4, r.Annotations)
	assert.Equal(t, 2, r.Nested)
	assert.Equal(t, 1, r.Discontinuous)
	assert.Equal(t, 2, r.Overlapping)
	assert.Equal(t, map[string]int{"A": 1, "R": 1, "#": 1, "N": 1}, r.IgnoredLines)
	assert.Contains(t, strings.Join(c.Warnings, "\n"), "annotation T3 has 2 fragments")
	assert.Equal(t, map[string]int{"Disorder": 2, "Anatomy": 2}, ComputeStats(c).Entities)

	// One file given by its .ann name.
	c2, err := ReadBRAT(filepath.Join(dir, "doc.ann"), BRATOptions{})
	require.NoError(t, err)
	assert.Equal(t, tags(d), tags(c2.Documents[0]))
}

func TestReadBRATMalformed(t *testing.T) {
	text := "Dor forte hoje."
	for _, tc := range []struct{ name, line, strictErr string }{
		{"missing column", "T9", "d.ann:1: missing column"},
		{"missing offsets", "T9\tFinding 4\tforte", `d.ann:1: T9: missing column: want "Type start end"`},
		{"bad offsets", "T9\tFinding 4 x\tforte", `d.ann:1: T9: bad offsets "4 x"`},
		{"outside the text", "T9\tFinding 4 99\tforte", "d.ann:1: T9: offsets 4-99 outside the text"},
		{"empty span", "T9\tFinding 4 4\t", "offsets 4-4 outside the text (15 characters) or empty"},
		{"fragments out of order", "T9\tFinding 10 14;4 9\thoje forte", "fragments 10-14 and 4-9 overlap"},
		{"text mismatch", "T9\tFinding 3 8\tforte", `d.ann:1: T9 at offset 3-8: text "forte" does not match the document's " fort"`},
		{"unknown line kind", "X1\tfoo", `d.ann:1: unknown annotation line "X1\tfoo"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"d.txt": text, "d.ann": tc.line + "\nT1\tFinding 0 3\tDor\n"})
			_, err := ReadBRAT(dir, BRATOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.strictErr)
			c, err := ReadBRAT(dir, BRATOptions{Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, 1, c.Report.Skipped)
			assert.Equal(t, [][]string{{"B-Finding", "O", "O", "O"}}, tags(c.Documents[0]))
			require.NotEmpty(t, c.Warnings)
			assert.Contains(t, c.Warnings[0], tc.strictErr)
		})
	}
	dir := writeFiles(t, map[string]string{"d.txt": text})
	_, err := ReadBRAT(dir, BRATOptions{})
	assert.ErrorContains(t, err, "missing annotation file")
	c, err := ReadBRAT(dir, BRATOptions{Lenient: true})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"O", "O", "O", "O"}}, tags(c.Documents[0]))

	dir = writeFiles(t, map[string]string{"e.txt": " \n", "e.ann": ""})
	_, err = ReadBRAT(dir, BRATOptions{})
	assert.ErrorContains(t, err, "e.txt: empty document")
	dir = writeFiles(t, map[string]string{"e.txt": "\xff\xfe", "e.ann": ""})
	_, err = ReadBRAT(dir, BRATOptions{})
	assert.ErrorContains(t, err, "not valid UTF-8")
}

func TestReadBRATPartialAndNoWord(t *testing.T) {
	text := "hipertensão  arterial"
	dir := writeFiles(t, map[string]string{"d.txt": text, "d.ann": "T1\tDisorder 5 21\ttensão  arterial\nT2\tX 11 13\t  \n"})
	c, err := ReadBRAT(dir, BRATOptions{})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"B-Disorder", "I-Disorder"}}, tags(c.Documents[0]))
	assert.Equal(t, 1, c.Report.PartialWord)
	assert.Equal(t, 1, c.Report.NoWord)
	assert.Contains(t, strings.Join(c.Warnings, "\n"), "annotation T2 [11,13) covers no word")
}

func FuzzReadBRAT(f *testing.F) {
	f.Add("Dor forte hoje.\nOutra linha.", "T1\tFinding 0 3\tDor\nT2\tX 4 9;10 14\tforte hoje\nA1\tNeg T1\n", true)
	f.Add("a", "T1\tX 0 1\ta\nT2\tY -1 5\tz\n", false)
	f.Add("ção", "T1\tX 1 2;0 1\tã ç\n", true)
	f.Fuzz(func(t *testing.T, text, ann string, lenient bool) {
		var rep Report
		p := &problems{lenient: lenient}
		anns, err := parseBRATAnn(strings.NewReader(ann), "f.ann", []rune(text), p, &rep)
		if err != nil {
			return
		}
		sents := buildStandoff(text, anns, p, &rep)
		for _, s := range sents {
			require.Equal(t, len(s.Words), len(s.Tags))
			require.Equal(t, len(s.Words), len(s.Labels))
			require.Equal(t, s.Tags, RepairTags(s.Tags, IOB2), "flat tags are valid IOB2")
		}
	})
}
