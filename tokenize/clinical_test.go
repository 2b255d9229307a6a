package tokenize

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func wordTexts(ws []Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Text
	}
	return out
}

func TestSplitClinicalWords(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"decimal comma", "Hb 10,2 g/dL, PCR 0,4.", []string{"Hb", "10,2", "g/dL", ",", "PCR", "0,4", "."}},
		{"decimal point and unit", "0.4g de 3.5", []string{"0.4g", "de", "3.5"}},
		{"ratio and unit", "TA 150/90 mmHg e 89/61mmHg.", []string{"TA", "150/90", "mmHg", "e", "89/61mmHg", "."}},
		{"dates and periods", "12/12h, 2/3 em 03/05/2019", []string{"12/12h", ",", "2/3", "em", "03/05/2019"}},
		{"ordinals and degrees", "2ª dose, 1º dia, 37,5°C", []string{"2ª", "dose", ",", "1º", "dia", ",", "37,5°C"}},
		{"time", "às 12:30: febre", []string{"às", "12:30", ":", "febre"}},
		{"hyphen compounds", "angio-TC e lesão artério-venosa", []string{"angio-TC", "e", "lesão", "artério-venosa"}},
		{"registando-se", "registando-se apenas", []string{"registando-se", "apenas"}},
		{"slash compound", "sintomas/sinais", []string{"sintomas/sinais"}},
		{"inner dots, final dot split", "p.ex. o Dr. Silva", []string{"p.ex", ".", "o", "Dr", ".", "Silva"}},
		{"brackets and quotes", `doppler (DTC) "normal" [sic]`, []string{"doppler", "(", "DTC", ")", `"`, "normal", `"`, "[", "sic", "]"}},
		{"percent and comparison", "SpO2 99% e >24h", []string{"SpO2", "99", "%", "e", ">", "24h"}},
		{"comma between letters splits", "febre,tosse", []string{"febre", ",", "tosse"}},
		{"edge joiners", "-5 e 3- e /x/", []string{"-", "5", "e", "3", "-", "e", "/", "x", "/"}},
		{"apostrophe", "copo d'água 'x'", []string{"copo", "d'água", "'", "x", "'"}},
		{"control between letters joins", "Osler\u0096Weber\u0096Rendu.", []string{"Osler\u0096Weber\u0096Rendu", "."}},
		{"control at edge dropped", "\u0096a \u0096 b\u0096", []string{"a", "b"}},
		{"ellipsis", "dor...", []string{"dor", ".", ".", "."}},
		{"nbsp separates", "10\u00a0mg", []string{"10", "mg"}},
		{"empty", " \t\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := SplitClinicalWords(tc.text)
			if tc.want == nil {
				assert.Empty(t, ws)
				return
			}
			assert.Equal(t, tc.want, wordTexts(ws))
			checkWordOffsets(t, tc.text, ws)
		})
	}
}

// checkWordOffsets checks that each word's Text is its byte slice and that
// rune offsets match byte offsets, in order and without overlap.
func checkWordOffsets(t *testing.T, text string, ws []Word) {
	t.Helper()
	prev := 0
	for _, w := range ws {
		require.Equal(t, text[w.ByteStart:w.ByteEnd], w.Text)
		assert.Equal(t, utf8.RuneCountInString(text[:w.ByteStart]), w.Start, w.Text)
		assert.Equal(t, w.Start+utf8.RuneCountInString(w.Text), w.End, w.Text)
		assert.GreaterOrEqual(t, w.ByteStart, prev)
		prev = w.ByteEnd
	}
}

func TestSplitWhitespaceWords(t *testing.T) {
	text := " Doente  de 46 anos,\tçé 🙂x\n"
	ws := SplitWhitespaceWords(text)
	assert.Equal(t, []string{"Doente", "de", "46", "anos,", "çé", "🙂x"}, wordTexts(ws))
	checkWordOffsets(t, text, ws)
}

func TestWordSplitterParseAndSplit(t *testing.T) {
	text := "TA 150/90 mmHg, (x)"
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"clinical", []string{"TA", "150/90", "mmHg", ",", "(", "x", ")"}},
		{"bert", []string{"TA", "150", "/", "90", "mmHg", ",", "(", "x", ")"}},
		{"whitespace", []string{"TA", "150/90", "mmHg,", "(x)"}},
	} {
		s, err := ParseWordSplitter(tc.name)
		require.NoError(t, err)
		require.NoError(t, s.Validate())
		assert.Equal(t, tc.want, wordTexts(s.Split(text)), tc.name)
	}
	_, err := ParseWordSplitter("spacy")
	assert.ErrorContains(t, err, `word splitter "spacy"`)
	assert.Error(t, WordSplitter("").Validate())
}

func TestSplitClinicalWordsInvalidUTF8(t *testing.T) {
	text := "ab\xffcd e\xff " + strings.Repeat("é", 3)
	ws := SplitClinicalWords(text)
	assert.Equal(t, []string{"ab\xffcd", "e", "ééé"}, wordTexts(ws))
	for _, w := range ws {
		assert.Equal(t, text[w.ByteStart:w.ByteEnd], w.Text)
	}
	assert.Equal(t, 9, ws[2].Start)
}
