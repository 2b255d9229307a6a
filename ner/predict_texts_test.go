package ner

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/demodata"
)

// TestPredictTextsEqualsPredict checks that tagging many texts together
// answers for each text what Predict answers for it alone: same entities,
// scores within float32 rounding of a differently padded batch.
func TestPredictTextsEqualsPredict(t *testing.T) {
	tok := demoTokenizer(t)
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0.1), []string{"O", "B-C", "I-C", "B-T", "I-T", "B-DT", "I-DT"}, -1)
	tg, err := Load(dir, TaggerOptions{BatchSize: 4, MaxLen: 24})
	require.NoError(t, err)
	defer tg.Close()

	lines := strings.Split(demodata.ClinicalText(), "\n")[:40]
	texts := append([]string{
		"",
		demodata.SampleSentence(),
		"Paciente com dor torácica há 2 dias; nega açúcar ↑ 🙂. Evolução: melhora clínica.",
		strings.Repeat("hipertensão arterial sistêmica, ", 30), // windowed at MaxLen 24
	}, lines...)
	got, err := tg.PredictTexts(context.Background(), texts)
	require.NoError(t, err)
	require.Len(t, got, len(texts))
	total := 0
	for i, text := range texts {
		want, err := tg.Predict(text)
		require.NoError(t, err)
		require.Len(t, got[i], len(want), "text %d", i)
		for j := range want {
			assert.Equal(t, want[j].Type, got[i][j].Type)
			assert.Equal(t, want[j].Text, got[i][j].Text)
			assert.Equal(t, want[j].Start, got[i][j].Start)
			assert.Equal(t, want[j].End, got[i][j].End)
			assert.InDelta(t, want[j].Score, got[i][j].Score, 1e-5)
		}
		total += len(want)
	}
	assert.Greater(t, total, 20, "the random model finds entities to compare")
	assert.Empty(t, got[0])

	none, err := tg.PredictTexts(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, none)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = tg.PredictTexts(ctx, texts)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTaggerInfoAndCountTokens(t *testing.T) {
	tok := demoTokenizer(t)
	dir := saveFreshModel(t, tok, tinyConfig(tok, 0.1), []string{"O", "B-C", "I-C", "B-DT", "I-DT"}, -1)
	tg, err := Load(dir, TaggerOptions{MaxLen: 24})
	require.NoError(t, err)
	defer tg.Close()
	info := tg.Info()
	assert.Equal(t, []string{"O", "B-C", "I-C", "B-DT", "I-DT"}, info.Labels)
	assert.Equal(t, []string{"C", "DT"}, info.Types)
	assert.Equal(t, IOB2, info.Scheme)
	assert.Equal(t, 24, info.MaxLen)
	assert.Equal(t, 5, info.Stride)
	assert.Equal(t, 32, info.BatchSize)
	assert.Equal(t, "cpu", info.Device)
	assert.Equal(t, "bert", info.Splitter)

	text := "Paciente com dor torácica."
	ids, err := tok.EncodeIDs(text)
	require.NoError(t, err)
	assert.Equal(t, len(ids), tg.CountTokens(text))
	assert.Equal(t, 0, tg.CountTokens(""))
}
