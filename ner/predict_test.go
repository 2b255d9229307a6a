package ner

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/metrics"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

func TestSplitTextOffsetsOnAccentedText(t *testing.T) {
	text := "Paciente com dor torácica há 2 dias.  Nega hipertensão; refere açúcar ↑."
	sents := splitText(text, tokenize.SplitterBERT)
	require.Len(t, sents, 2)
	runes := []rune(text)
	for _, s := range sents {
		for _, w := range s.words {
			assert.Equal(t, w.Text, string(runes[w.Start:w.End]))
			assert.Equal(t, w.Text, text[w.ByteStart:w.ByteEnd])
		}
	}
	assert.Equal(t, []string{"Paciente", "com", "dor", "torácica", "há", "2", "dias", "."}, sents[0].wordTexts())
	assert.Equal(t, "Nega", sents[1].words[0].Text)
	assert.Equal(t, 38, sents[1].words[0].Start)
}

func TestDecodeEntitiesCharOffsets(t *testing.T) {
	text := "Nega hipertensão; dor torácica há 2 dias."
	sents := splitText(text, tokenize.SplitterBERT)
	require.Len(t, sents, 1)
	words := sents[0].words
	//        Nega hipertensão ;   dor    torácica há  2      dias   .
	tags := []string{"B-N", "B-C", "O", "B-C", "I-C", "O", "B-DT", "I-DT", "O"}
	probs := []float64{0.9, 0.8, 1, 0.6, 0.4, 1, 0.7, 0.5, 1}
	got := decodeEntities(text, words, tags, probs)
	require.Len(t, got, 4)
	want := []Entity{
		{Type: "N", Text: "Nega", Start: 0, End: 4, Score: 0.9},
		{Type: "C", Text: "hipertensão", Start: 5, End: 16, Score: 0.8},
		{Type: "C", Text: "dor torácica", Start: 18, End: 30, Score: 0.5},
		{Type: "DT", Text: "2 dias", Start: 34, End: 40, Score: 0.6},
	}
	runes := []rune(text)
	for i, e := range got {
		assert.Equal(t, want[i].Type, e.Type)
		assert.Equal(t, want[i].Text, e.Text)
		assert.Equal(t, want[i].Start, e.Start)
		assert.Equal(t, want[i].End, e.End)
		assert.InDelta(t, want[i].Score, e.Score, 1e-12)
		assert.Equal(t, e.Text, string(runes[e.Start:e.End]))
	}
	// An I- after O starts an entity, as conlleval reads it; the chunks agree
	// with metrics.Entities in Conlleval mode.
	tags = []string{"I-N", "I-C", "O", "I-C", "I-C", "O", "B-DT", "B-DT", "I-C"}
	got = decodeEntities(text, words, tags, probs)
	me := metrics.Entities(tags, metrics.IOB2, metrics.Conlleval)
	require.Len(t, got, len(me))
	for i := range me {
		assert.Equal(t, me[i].Type, got[i].Type)
		assert.Equal(t, words[me[i].Start].Start, got[i].Start)
		assert.Equal(t, words[me[i].End-1].End, got[i].End)
	}
}

func TestSchemeOfLabels(t *testing.T) {
	for _, s := range []Scheme{IOB2, IOBES, BILOU, IO, IOE2} {
		c := &Corpus{Documents: []Document{{Sentences: []Sentence{{Words: []string{"a"}, Tags: []string{"B-X"}}}}}}
		assert.Equal(t, s, schemeOfLabels(Labels(c, s)), s.String())
	}
	assert.Equal(t, IOB2, schemeOfLabels([]string{"O"}))
}

func TestEvalTags(t *testing.T) {
	in := []string{"I-X", "O", "S-Y", "B-Z", "E-Z"}
	assert.Equal(t, in, evalTags(in, IOB2))
	assert.Equal(t, []string{"B-X", "O", "B-Y", "B-Z", "I-Z"}, evalTags(in, IOBES))
}

func TestConllevalFieldsWithSpaces(t *testing.T) {
	ev := &Evaluation{
		Words: [][]string{{"dipirona", "500 mg"}},
		Gold:  [][]string{{"B-Chemicals and Drugs", "O"}},
		Pred:  [][]string{{"B-Chemicals and Drugs", "O"}},
	}
	assert.Equal(t, "dipirona B-Chemicals_and_Drugs B-Chemicals_and_Drugs\n500_mg O O\n\n", ev.Conll())
	rep, err := ev.ConllevalReport()
	require.NoError(t, err)
	assert.Contains(t, rep, "Chemicals_and_Drugs")
}
