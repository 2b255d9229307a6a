package ner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

func TestCLINptGroup(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"CO15 1", "CO15"},
		{"CO15 2", "CO15"},
		{"P14 pag 186", "P14 pag 186"},
		{"P14 pag 186 2", "P14 pag 186"},
		{"Texto 2 pag 85 1", "Texto 2 pag 85"},
		{"Texto 10 pag 88", "Texto 10 pag 88"},
		{"Texto pagina 17", "Texto pagina 17"},
		{"CC6", "CC6"},
		{"PO120 3", "PO120"},
		{"sub/CO15 1", "sub/CO15"},
		{"12", "12"},
	} {
		assert.Equal(t, tc.want, CLINptGroup(tc.id), tc.id)
	}
}

// writeXLSX writes a workbook with one sheet "Folha1" holding the given
// cells (values may be strings, ints, floats, or formula{...}).
type formula struct{ f string }

func writeXLSX(t *testing.T, path string, rows [][]any) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	require.NoError(t, f.SetSheetName("Sheet1", "Folha1"))
	for i, r := range rows {
		for j, v := range r {
			ax, err := excelize.CoordinatesToCellName(j+1, i+1)
			require.NoError(t, err)
			if fo, ok := v.(formula); ok {
				require.NoError(t, f.SetCellFormula("Folha1", ax, fo.f))
				continue
			}
			require.NoError(t, f.SetCellValue("Folha1", ax, v))
		}
	}
	require.NoError(t, f.SaveAs(path))
}

func TestReadCLINptXLSX(t *testing.T) {
	dir := t.TempDir()
	writeXLSX(t, filepath.Join(dir, "CO15 1.xlsx"), [][]any{
		{"Token", "POS", "Lemma", "Tag"},
		{"Doente", "n", "doente", "O"},
		{"de", "prp", "de", "O"},
		{46, "num", 46, "O"},
		{"anos", "n", "ano", "O"},
		{"com", "prp", "com", "O"},
		{formula{`"Osler"&"` + "\u0096" + `"&"Weber"`}, "prop", "x", "B-C"},
		{".", "punc", ".", "O"},
		{"SpO2", "prop", "spo2", "B-T"},
		{"de", "prp", "de", "O"},
		{formula{"40+59"}, "num", "99", "B-V"},
		{"%", "n", "%", "I-V"},
		{},
		{"24 h", "n", "24 h", "B-DT"},
		{0.5, "num", "0.5", "O"},
		{"Dr.", "n", "dr.", "O"},
		{"?", "punc", "?", "B-C"},
		{".", "punc", ".", "I-C"},
		{"fim", "n", "fim", "I-C"},
		{"!", "punc", "!", "O"},
	})
	writeXLSX(t, filepath.Join(dir, "CO15 2.xlsx"), [][]any{{"Febre", "n", "febre", "B-C"}})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.md"), []byte("ignored"), 0o644))

	c, err := ReadCLINpt(dir, CLINptOptions{})
	require.NoError(t, err)
	require.Len(t, c.Documents, 2)
	d := c.Documents[0]
	assert.Equal(t, "CO15 1", d.ID)
	assert.Equal(t, "CO15", d.Group)
	assert.Equal(t, "CO15", c.Documents[1].Group)
	assert.Equal(t, "", d.Text)
	assert.Equal(t, [][]string{
		{"Doente", "de", "46", "anos", "com", "Osler\u0096Weber", "."},
		{"SpO2", "de", "99", "%"},
		{"24 h", "0.5", "Dr.", "?", ".", "fim", "!"},
	}, words(d))
	assert.Equal(t, [][]string{
		{"O", "O", "O", "O", "O", "B-C", "O"},
		{"B-T", "O", "B-V", "I-V"},
		{"B-DT", "O", "O", "B-C", "I-C", "I-C", "O"},
	}, tags(d))
	assert.Empty(t, c.Warnings)
	assert.Equal(t, 2, c.Report.Files)
}

func TestReadCLINptText(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.tsv": "Doente\tn\tdoente\tO\nafasia\tn\tafasia\tB-C\n.\tpunc\t.\tO\nMRS\tn\tmrs\tB-XYZ\n",
		"b.csv": "token,POS,lemma,tag\n\"124/73, mmHg\",num,x,B-V\n\"\"\"\",punc,x,O\n",
		"c.txt": "word\ttag\nfebre\tB-C\n",
	})
	_, err := ReadCLINpt(dir, CLINptOptions{})
	assert.ErrorContains(t, err, `a.tsv:4: unknown tag "B-XYZ"`)
	c, err := ReadCLINpt(dir, CLINptOptions{AllowAnyType: true})
	require.NoError(t, err)
	require.Len(t, c.Documents, 3)
	assert.Equal(t, [][]string{{"Doente", "afasia", "."}, {"MRS"}}, words(c.Documents[0]))
	assert.Equal(t, [][]string{{"124/73, mmHg", `"`}}, words(c.Documents[1]))
	assert.Equal(t, [][]string{{"B-V", "O"}}, tags(c.Documents[1]))
	assert.Equal(t, [][]string{{"febre"}}, words(c.Documents[2]), "header reorders columns")
	assert.Equal(t, [][]string{{"B-C"}}, tags(c.Documents[2]))

	one, err := ReadCLINpt(filepath.Join(dir, "b.csv"), CLINptOptions{})
	require.NoError(t, err)
	assert.Equal(t, "b", one.Documents[0].ID)
}

func TestReadCLINptMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, content, strictErr  string
		lenientWords, lenientTags [][]string
	}{
		{"missing tag column", "a\tn\ta\n b\tn\tb\tB-C\n", "m.tsv:1: missing column: no tag in column 4", [][]string{{"a", " b"}}, [][]string{{"O", "B-C"}}},
		{"missing token", "\tn\ta\tO\nb\tn\tb\tB-C\n", "m.tsv:1: missing column: no token", [][]string{{"b"}}, [][]string{{"B-C"}}},
		{"unknown type", "a\tn\ta\tB-Disease\n", `m.tsv:1: unknown tag "B-Disease": type "Disease" is not a CLINpt type`, [][]string{{"a"}}, [][]string{{"O"}}},
		{"bad prefix", "a\tn\ta\tE-C\n", `m.tsv:1: unknown tag "E-C"`, [][]string{{"a"}}, [][]string{{"O"}}},
		{"zero for O", "a\tn\ta\t0\n", `m.tsv:1: unknown tag "0"`, [][]string{{"a"}}, [][]string{{"O"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"m.tsv": tc.content})
			_, err := ReadCLINpt(dir, CLINptOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.strictErr)
			c, err := ReadCLINpt(dir, CLINptOptions{Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, tc.lenientWords, words(c.Documents[0]))
			assert.Equal(t, tc.lenientTags, tags(c.Documents[0]))
			assert.Equal(t, 1, c.Report.Skipped)
			require.Len(t, c.Warnings, 1)
			assert.Contains(t, c.Warnings[0], tc.strictErr)
		})
	}
	dir := writeFiles(t, map[string]string{"e.tsv": "\n\t\t\n", "ok.tsv": "a\tn\ta\tO\n"})
	_, err := ReadCLINpt(dir, CLINptOptions{})
	assert.ErrorContains(t, err, "e.tsv: empty document")
	c, err := ReadCLINpt(dir, CLINptOptions{Lenient: true})
	require.NoError(t, err)
	assert.Len(t, c.Documents, 1)

	bad := writeFiles(t, map[string]string{"broken.xlsx": "not a zip"})
	_, err = ReadCLINpt(bad, CLINptOptions{})
	assert.ErrorContains(t, err, "broken.xlsx")
	x := t.TempDir()
	writeXLSX(t, filepath.Join(x, "s.xlsx"), [][]any{{"a", "n", "a", "O"}})
	_, err = ReadCLINpt(x, CLINptOptions{Sheet: "Nope"})
	assert.ErrorContains(t, err, `sheet "Nope"`)
}

// The real CLINpt samples, outside the repository; the test skips without them.
func TestReadCLINptSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "clinpt-sample")
	if _, err := os.Stat(filepath.Join(dir, "CC6.xlsx")); err != nil {
		t.Skip("CLINpt samples not present:", err)
	}
	c, err := ReadCLINpt(dir, CLINptOptions{})
	require.NoError(t, err)
	assert.Empty(t, c.Warnings)
	require.Len(t, c.Documents, 3)
	byID := map[string]Document{}
	for _, d := range c.Documents {
		byID[d.ID] = d
	}
	cc6 := byID["CC6"]
	assert.Equal(t, "CC6", cc6.Group)
	assert.Equal(t, "P14 pag 186", byID["P14 pag 186"].Group)
	assert.Equal(t, "P14 pag 186", byID["P14 pag 186 2"].Group)

	st := ComputeStats(&Corpus{Documents: []Document{cc6}})
	assert.Equal(t, 230, st.Tokens)
	assert.Equal(t, 12, st.Sentences)
	assert.Equal(t, 102, ComputeStats(&Corpus{Documents: []Document{byID["P14 pag 186 2"]}}).Tokens)
	assert.Equal(t, 96, ComputeStats(&Corpus{Documents: []Document{byID["P14 pag 186"]}}).Tokens)

	all := map[string]bool{}
	for _, d := range c.Documents {
		for _, s := range d.Sentences {
			for i, w := range s.Words {
				all[w] = true
				assert.NotEqual(t, "0", w)
				assert.NotEmpty(t, s.Tags[i])
			}
			last := s.Words[len(s.Words)-1]
			assert.True(t, sentenceFinal(last), "sentence ends with %q", last)
		}
	}
	for _, w := range []string{"46", "124/73mmHg", "82bpm", "99", "Osler\u0096Weber\u0096Rendu", "temporo-insulo-parietal", "24h"} {
		assert.True(t, all[w], "token %q read as displayed", w)
	}
	first := cc6.Sentences[0]
	assert.Equal(t, []string{"Doente", "de", "46", "anos", ",", "admitida"}, first.Words[:6])
	assert.Equal(t, []string{"B-AS", "I-AS"}, first.Tags[15:17])
}
