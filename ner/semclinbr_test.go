package ner

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runeSpan returns the rune offsets of the n-th (0-based) occurrence of sub
// in text.
func runeSpan(t testing.TB, text, sub string, n int) (int, int) {
	t.Helper()
	from := 0
	for {
		i := strings.Index(text[from:], sub)
		require.GreaterOrEqual(t, i, 0, "%q not in text", sub)
		if n == 0 {
			s := utf8.RuneCountInString(text[:from+i])
			return s, s + utf8.RuneCountInString(sub)
		}
		n--
		from += i + len(sub)
	}
}

type semAnn struct {
	id, sub string
	nth     int
	tag     string
}

func semXML(t testing.TB, text string, anns []semAnn) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ANNOTATIONS>\n<TEXT><![CDATA[%s]]></TEXT>\n<TAGS>\n", text)
	for _, a := range anns {
		s, e := runeSpan(t, text, a.sub, a.nth)
		fmt.Fprintf(&b, "<annotation id=\"%s\" start=\"%d\" end=\"%d\" text=\"%s\" tag=\"%s\"/>\n", xmlAttr(a.id), s, e, xmlAttr(a.sub), xmlAttr(a.tag))
	}
	b.WriteString("</TAGS>\n</ANNOTATIONS>\n")
	return b.String()
}

// xmlAttr escapes s for a double-quoted XML attribute.
func xmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

const semText = "Paciente com dor torácica e febre alta.\nUsa AAS 100mg."

func TestReadSemClinBr(t *testing.T) {
	xml := semXML(t, semText, []semAnn{
		{"1", "dor torácica", 0, "Disorders|Sign or Symptom"},
		{"2", "torácica", 0, "Anatomy"},
		{"3", "febre alta", 0, "Disorders"},
		{"4", "febre", 0, "Disorders"},
		{"5", "AAS", 0, "Chemicals and Drugs"},
		{"6", "100m", 0, "Dose"},
	})
	dir := writeFiles(t, map[string]string{"note1.xml": xml, "readme.txt": "ignored"})
	c, err := ReadSemClinBr(dir, SemClinBrOptions{})
	require.NoError(t, err)
	require.Len(t, c.Documents, 1)
	d := c.Documents[0]
	assert.Equal(t, "note1", d.ID)
	assert.Equal(t, semText, d.Text)
	assert.Equal(t, [][]string{
		{"Paciente", "com", "dor", "torácica", "e", "febre", "alta", "."},
		{"Usa", "AAS", "100mg", "."},
	}, words(d))
	assert.Equal(t, [][]string{
		{"O", "O", "B-Disorders", "I-Disorders", "O", "B-Disorders", "I-Disorders", "O"},
		{"O", "B-Chemicals and Drugs", "B-Dose", "O"},
	}, tags(d))
	s0 := d.Sentences[0]
	assert.Equal(t, [][]string{
		nil, nil,
		{"B-Disorders", "B-Sign or Symptom"},
		{"B-Anatomy", "I-Disorders", "I-Sign or Symptom"},
		nil,
		{"B-Disorders"},
		{"I-Disorders"},
		nil,
	}, s0.Labels)
	// Offsets index the text.
	runes := []rune(d.Text)
	for _, s := range d.Sentences {
		for i, w := range s.Words {
			assert.Equal(t, w, string(runes[s.Starts[i]:s.Ends[i]]))
		}
	}
	r := c.Report
	assert.Equal(t, 6, r.Annotations)
	assert.Equal(t, 1, r.MultiLabel)
	assert.Equal(t, 2, r.Nested)
	assert.Equal(t, 2, r.Overlapping)
	assert.Equal(t, 1, r.SameLabelOverlap)
	assert.Equal(t, 1, r.PartialWord)
	assert.Equal(t, 0, r.Skipped)
	joined := strings.Join(c.Warnings, "\n")
	assert.Contains(t, joined, `annotation 4 overlaps an earlier Disorders annotation`)
	assert.Contains(t, joined, `annotation 6 [48,52) starts or ends inside a word`)

	st := ComputeStats(c)
	assert.Equal(t, map[string]int{"Disorders": 2, "Sign or Symptom": 1, "Anatomy": 1, "Chemicals and Drugs": 1, "Dose": 1}, st.Entities)
	assert.Equal(t, []string{"Anatomy", "Chemicals and Drugs", "Disorders", "Dose", "Sign or Symptom"}, Types(c))
	assert.Equal(t, []string{"O", "B-Chemicals and Drugs", "B-Disorders", "B-Dose", "I-Chemicals and Drugs", "I-Disorders", "I-Dose"}, Labels(c, IOB2))

	// The paper's per-group binary corpora.
	an := GroupCorpus(c, "Anatomy")
	assert.Equal(t, [][]string{{"O", "O", "O", "B-Anatomy", "O", "O", "O", "O"}, {"O", "O", "O", "O"}}, tags(an.Documents[0]))
	assert.Nil(t, an.Documents[0].Sentences[0].Labels)
	assert.Equal(t, map[string]int{"Anatomy": 1}, ComputeStats(an).Entities)
	assert.Equal(t, d.Sentences[0].Tags[3], "I-Disorders", "original untouched")
}

func TestReadSemClinBrCrossSentence(t *testing.T) {
	text := "Dor forte.\nNo peito."
	dir := writeFiles(t, map[string]string{"n.xml": semXML(t, text, []semAnn{{"1", "forte.\nNo peito", 0, "Findings"}})})
	c, err := ReadSemClinBr(dir, SemClinBrOptions{})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"O", "B-Findings", "I-Findings"}, {"B-Findings", "I-Findings", "O"}}, tags(c.Documents[0]))
	assert.Equal(t, 1, c.Report.CrossSentence)
	assert.Equal(t, 2, ComputeStats(c).Entities["Findings"])
}

func TestReadSemClinBrMalformed(t *testing.T) {
	good := `<annotation id="1" start="0" end="3" text="Dor" tag="Findings"/>`
	for _, tc := range []struct {
		name, body, strictErr string
		lenient               bool // the lenient reader reads the file
	}{
		{"text mismatch", `<annotation id="7" start="3" end="8" text="forte" tag="Findings"/>`, `n.xml:4: annotation id="7" at offset 3-8: text "forte" does not match TEXT[3:8] = " fort"`, true},
		{"offset outside", `<annotation id="8" start="4" end="99" text="x" tag="Findings"/>`, `annotation id="8": offsets 4-99 outside the text`, true},
		{"negative offset", `<annotation id="8" start="-1" end="2" tag="Findings"/>`, `offsets -1-2 outside`, true},
		{"missing start", `<annotation id="9" end="3" tag="Findings"/>`, `annotation id="9": missing attribute "start"`, true},
		{"missing tag", `<annotation id="9" start="0" end="3"/>`, `missing attribute "tag"`, true},
		{"bad number", `<annotation id="9" start="zero" end="3" tag="X"/>`, `bad offsets start="zero"`, true},
		{"empty label", `<annotation id="9" start="0" end="3" tag="Findings|"/>`, `empty label in tag "Findings|"`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xml := "<ANNOTATIONS>\n<TEXT>Dor forte.</TEXT>\n<TAGS>\n" + tc.body + "\n" + good + "\n</TAGS></ANNOTATIONS>"
			dir := writeFiles(t, map[string]string{"n.xml": xml})
			_, err := ReadSemClinBr(filepath.Join(dir, "n.xml"), SemClinBrOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.strictErr)
			c, err := ReadSemClinBr(dir, SemClinBrOptions{Lenient: true})
			require.NoError(t, err)
			assert.Equal(t, 1, c.Report.Skipped)
			assert.Equal(t, 2, c.Report.Annotations)
			assert.Equal(t, [][]string{{"B-Findings", "O", "O"}}, tags(c.Documents[0]), "the good annotation is kept, the bad one left out")
			require.NotEmpty(t, c.Warnings)
			assert.Contains(t, c.Warnings[0], tc.strictErr)
		})
	}
	for _, tc := range []struct{ name, xml, err string }{
		{"empty text", "<ANNOTATIONS><TEXT> \n </TEXT><TAGS/></ANNOTATIONS>", "n.xml: empty document"},
		{"no text", "<ANNOTATIONS><TAGS/></ANNOTATIONS>", "missing <TEXT>"},
		{"wrong root", "<DOC><TEXT>a</TEXT></DOC>", "root element <DOC>"},
		{"broken xml", "<ANNOTATIONS><TEXT>a</TEXT>", "n.xml"},
		{"two texts", "<ANNOTATIONS><TEXT>a</TEXT><TEXT>b</TEXT></ANNOTATIONS>", "second <TEXT>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"n.xml": tc.xml})
			_, err := ReadSemClinBr(dir, SemClinBrOptions{})
			assert.ErrorContains(t, err, tc.err)
		})
	}
	dir := writeFiles(t, map[string]string{"n.xml": "<ANNOTATIONS><TEXT> </TEXT></ANNOTATIONS>"})
	_, err := ReadSemClinBr(dir, SemClinBrOptions{Lenient: true})
	assert.ErrorContains(t, err, "no documents")
}

func TestSemClinBrNewlineInAttribute(t *testing.T) {
	text := "dor\ntorácica"
	xml := "<ANNOTATIONS><TEXT>" + text + "</TEXT><TAGS><annotation id=\"1\" start=\"0\" end=\"12\" text=\"dor torácica\" tag=\"Findings\"/></TAGS></ANNOTATIONS>"
	dir := writeFiles(t, map[string]string{"n.xml": xml})
	c, err := ReadSemClinBr(dir, SemClinBrOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, ComputeStats(c).EntityTotal())
}

func TestMergeGroupTags(t *testing.T) {
	got, err := MergeGroupTags([]string{"Disorders", "Anatomy"}, [][]string{
		{"B-Disorders", "I-Disorders", "O"},
		{"O", "B-X", "I-X"},
	})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"B-Disorders"}, {"B-Anatomy", "I-Disorders"}, {"I-Anatomy"}}, got)
	_, err = MergeGroupTags([]string{"A"}, nil)
	assert.Error(t, err)
	_, err = MergeGroupTags([]string{"A", "B"}, [][]string{{"O"}, {"O", "O"}})
	assert.ErrorContains(t, err, "group B has 2 tags")
	assert.Len(t, SemClinBrGroups(), 13)
}

func ExampleGroupCorpus() {
	c := &Corpus{Documents: []Document{{ID: "n", Sentences: []Sentence{{
		Words:  []string{"dor", "torácica"},
		Tags:   []string{"B-Disorders", "I-Disorders"},
		Labels: [][]string{{"B-Disorders"}, {"B-Anatomy", "I-Disorders"}},
	}}}}}
	fmt.Println(GroupCorpus(c, "Anatomy").Documents[0].Sentences[0].Tags)
	fmt.Println(GroupCorpus(c, "Disorders").Documents[0].Sentences[0].Tags)
	// Output:
	// [O B-Anatomy]
	// [B-Disorders I-Disorders]
}
