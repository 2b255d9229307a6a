package pretrain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitSentencesReadsNotes(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "notes.txt", []byte("Paciente refere dor torácica há 2 dias. Nega febre. Dr. Silva solicitou ECG.\nSem queixas hoje!\n"))
	docs, err := readAll(t, []string{f}, CorpusOptions{Split: SplitSentences, SplitName: SentenceSplitName})
	require.NoError(t, err)
	require.Len(t, docs, 2)
	assert.Equal(t, []string{"Paciente refere dor torácica há 2 dias.", "Nega febre.", "Dr. Silva solicitou ECG."}, docs[0].Sentences)
	assert.Equal(t, []string{"Sem queixas hoje!"}, docs[1].Sentences)
}
