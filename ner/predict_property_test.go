package ner

import (
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/tokenize"
)

// randomClinicalText joins random Portuguese clinical fragments, accents,
// emoji and punctuation with random whitespace.
func randomClinicalText(rng *rand.Rand) string {
	frags := []string{"Paciente", "refere", "dor", "torácica", "há", "2", "dias", "açúcar", "↑", "🙂", "👩‍⚕️", "Hb", "10,2", "g/dL",
		"TA", "150/90", "mmHg", "89/61mmHg", "angio-TC", "artério-venosa", "(", ")", ",", ".", ";", "“aspas”", "12/12h", "2ª", "São", "Ñ",
		"coração", "ÉÇÃ", "p.ex.", "d'água", "-", "%", "…", "\u0096", "x\u00a0y"}
	seps := []string{" ", "  ", "", "\t", "\n", " "}
	var b strings.Builder
	for n := 3 + rng.IntN(40); n > 0; n-- {
		b.WriteString(frags[rng.IntN(len(frags))])
		b.WriteString(seps[rng.IntN(len(seps))])
	}
	return b.String()
}

// Predict's entities are the text between their character offsets, in
// order and without overlaps, for every splitter and decoding.
func TestPredictEntityOffsetsProperty(t *testing.T) {
	tok := demoTokenizer(t)
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"O", "B-C", "I-C", "B-V", "I-V"}, -1)
	rng := rand.New(rand.NewPCG(3, 5))
	texts := make([]string, 60)
	for i := range texts {
		texts[i] = randomClinicalText(rng)
	}
	for _, sp := range tokenize.WordSplitters() {
		for _, dec := range []Decode{DecodeViterbi, DecodeArgmax} {
			tg, err := Load(dir, TaggerOptions{MaxLen: 16, Splitter: sp, Decode: dec})
			require.NoError(t, err)
			n := 0
			for _, text := range texts {
				ents, err := tg.Predict(text)
				require.NoError(t, err)
				runes := []rune(text)
				prevEnd := 0
				for _, e := range ents {
					require.Less(t, e.Start, e.End, "%s %v %q", sp, dec, text)
					require.GreaterOrEqual(t, e.Start, prevEnd, "%s %v: overlap in %q", sp, dec, text)
					require.LessOrEqual(t, e.End, len(runes))
					require.Equal(t, e.Text, string(runes[e.Start:e.End]), "%s %v %q", sp, dec, text)
					prevEnd = e.End
					n++
				}
			}
			require.NoError(t, tg.Close())
			require.Positive(t, n, "%s %v: the random model finds entities", sp, dec)
		}
	}
}

// Repeated long Predict calls leave no tensor behind: memory does not grow
// with the number of calls.
func TestPredictDoesNotLeakTensors(t *testing.T) {
	tok := demoTokenizer(t)
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"O", "B-C", "I-C"}, -1)
	tg, err := Load(dir, TaggerOptions{MaxLen: 32})
	require.NoError(t, err)
	defer tg.Close()
	text := strings.Repeat("Paciente com dor torácica há 2 dias, Hb 10,2 g/dL e TA 150/90 mmHg. ", 40)
	for range 2 {
		_, err := tg.Predict(text)
		require.NoError(t, err)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before := len(ts.ExistingTensors)
	for range 10 {
		_, err := tg.Predict(text)
		require.NoError(t, err)
	}
	require.Equal(t, before, len(ts.ExistingTensors))
}
