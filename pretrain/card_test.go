package pretrain

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/modelcard"
)

// TestTrainWritesModelCard: final/README.md is a Hub model card whose
// front matter parses, with the validation perplexity in its model-index
// and the corpus file's SHA-256 and the hyper-parameters in its body.
func TestTrainWritesModelCard(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 60, 0)
	o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, "out"))
	o.MaxSteps = 2
	res, err := Train(context.Background(), o)
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(res.FinalDir, modelcard.FileName))
	require.NoError(t, err)
	meta, body, err := modelcard.Parse(b)
	require.NoError(t, err)
	assert.Equal(t, []string{"pt"}, meta.Language)
	assert.Equal(t, "fill-mask", meta.PipelineTag)
	require.Len(t, meta.ModelIndex, 1)
	evals := res.Stages[0].Evals
	require.NotEmpty(t, evals)
	assert.InDelta(t, evals[len(evals)-1].Perplexity, meta.ModelIndex[0].Results[0].Metrics[0].Value, 1e-9)
	for _, want := range []string{"notes.txt", "| lr | `0.001` |", "| block_size | `32` |", "trained from a fresh initialisation", "libtorch 1.", "## Intended use and limitations"} {
		assert.Contains(t, body, want)
	}
}
