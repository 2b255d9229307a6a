package tokenize

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func sentenceTexts(text string) []string {
	var out []string
	for _, s := range SplitSentences(text) {
		out = append(out, text[s.ByteStart:s.ByteEnd])
	}
	return out
}

func TestSplitSentences(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"two sentences", "Paciente com dor torácica. Nega febre.", []string{"Paciente com dor torácica.", "Nega febre."}},
		{"titles", "Avaliado pelo Dr. Silva e pela Dra. Souza hoje. Sr. João e Sra. Maria presentes.",
			[]string{"Avaliado pelo Dr. Silva e pela Dra. Souza hoje.", "Sr. João e Sra. Maria presentes."}},
		{"p.ex. and aprox.", "Evitar AINEs, p.ex. Ibuprofeno. A dose aprox. é 1,5 mg/kg.", []string{"Evitar AINEs, p.ex. Ibuprofeno.", "A dose aprox. é 1,5 mg/kg."}},
		{"decimals and dates", "Creatinina 1,8 mg/dL e 1.5 mg em 12/03/2020. Repetir.", []string{"Creatinina 1,8 mg/dL e 1.5 mg em 12/03/2020.", "Repetir."}},
		{"mg. abbreviation", "Dipirona 500 mg. VO de 6/6h.", []string{"Dipirona 500 mg. VO de 6/6h."}},
		{"n.º", "Leito n.º 12. Enfermaria B.", []string{"Leito n.º 12.", "Enfermaria B."}},
		{"enumeration lines", "Prescrição:\n1. Dipirona 1 g EV\n2. Omeprazol 40 mg\n3. Ondansetrona",
			[]string{"Prescrição:", "1. Dipirona 1 g EV", "2. Omeprazol 40 mg", "3. Ondansetrona"}},
		{"wrapped line", "Paciente refere dor\nem queimação há 2 dias.\nNega febre.", []string{"Paciente refere dor\nem queimação há 2 dias.", "Nega febre."}},
		{"blank line", "BEG, LOTE\n\nConduta: mantida", []string{"BEG, LOTE", "Conduta: mantida"}},
		{"question and exclamation", "Dor? Sim! Piorou ontem...  Melhorou hoje.", []string{"Dor?", "Sim!", "Piorou ontem...", "Melhorou hoje."}},
		{"quote after period", "Disse: \"estou melhor.\" Depois dormiu.", []string{"Disse: \"estou melhor.\"", "Depois dormiu."}},
		{"lowercase continuation", "Tomar 1 comp. de 12/12h. Retorno em 7 dias.", []string{"Tomar 1 comp. de 12/12h.", "Retorno em 7 dias."}},
		{"initial", "Paciente J. Silva internado. Alta amanhã.", []string{"Paciente J. Silva internado.", "Alta amanhã."}},
		{"empty", "   \n ", nil},
		{"no final punctuation", "Sem queixas no momento", []string{"Sem queixas no momento"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, sentenceTexts(tc.text))
		})
	}
}

func TestSplitSentencesOffsets(t *testing.T) {
	text := "Ação rápida. Coração ok."
	s := SplitSentences(text)
	assert.Equal(t, []Span{{0, 12, 0, 15}, {13, 24, 16, 29}}, s)
	assert.Equal(t, "Coração ok.", string([]rune(text)[s[1].Start:s[1].End]))
}
