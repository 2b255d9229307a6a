package ner

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

// TestTrainWritesModelCard: best/README.md is a Hub model card whose front
// matter parses (known fields only) with language pt, a license, the
// library, tags, datasets and a model-index holding the test scores Train
// returned; its body names the corpus files' hashes, every
// hyper-parameter, the per-type dev and test scores, the software and the
// limitations.
func TestTrainWritesModelCard(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tok := demoTokenizer(t)
	split := demoSplit(t)
	modelDir := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	o := fastOptions(filepath.Join(t.TempDir(), "clinpt-tiny"))
	o.Epochs, o.MaxSteps = 1, 2
	o.Card.Datasets = []string{"demo-clinpt"}
	res, err := Train(context.Background(), modelDir, tok, split, o)
	require.NoError(t, err)
	require.NotNil(t, res.Test)

	b, err := os.ReadFile(filepath.Join(res.BestDir, modelcard.FileName))
	require.NoError(t, err)
	meta, body, err := modelcard.Parse(b)
	require.NoError(t, err)
	assert.Equal(t, []string{"pt"}, meta.Language)
	assert.Equal(t, "apache-2.0", meta.License)
	assert.Equal(t, "transformers", meta.LibraryName)
	assert.Contains(t, meta.Tags, "clinical")
	assert.Equal(t, []string{"demo-clinpt"}, meta.Datasets)
	assert.Empty(t, meta.BaseModel, "a local directory is no Hub base model")
	require.Len(t, meta.ModelIndex, 1)
	assert.Equal(t, "clinpt-tiny", meta.ModelIndex[0].Name)
	r := meta.ModelIndex[0].Results[0]
	assert.Equal(t, "token-classification", r.Task.Type)
	assert.Equal(t, "test", r.Dataset.Split)
	require.NotEmpty(t, r.Metrics)
	assert.Equal(t, "f1", r.Metrics[2].Type)
	assert.InDelta(t, res.Test.Report.Micro.F1, r.Metrics[2].Value, 5e-5)

	for _, want := range []string{"## Base model", "weights SHA-256", "doc01.tsv", "| lr | `0.003` |", "| batch_size | `16` |",
		"### dev", "### test", "| **micro avg** |", "libtorch 1.", "## Intended use and limitations", "not a medical device"} {
		assert.Contains(t, body, want)
	}
	for _, typ := range res.Test.Report.Types {
		assert.Contains(t, body, "| "+typ+" | ")
	}

	_, _, err = modelcard.Parse([]byte("# no front matter\n"))
	assert.ErrorContains(t, err, "no front matter")
	_, _, err = modelcard.Parse([]byte("---\nlanguage: [pt]\nbogus: 1\n---\n"))
	assert.ErrorContains(t, err, "bogus")
}

func TestCardCommonDir(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{"demo/train/a.tsv", "demo/dev/b.tsv", "demo/test/c.tsv"}, "demo"},
		{[]string{"/data/clinpt/a.xlsx", "/data/clinpt/b.xlsx"}, "/data/clinpt"},
		{[]string{"/data/clinpt/a.xlsx", "/other/b.xlsx"}, "/"},
		{[]string{"a.conll", "b.conll"}, "."},
		{nil, ""},
	} {
		m := map[string]any{}
		for _, f := range tc.files {
			m[f] = "sum"
		}
		assert.Equal(t, tc.want, commonDir(m), "%v", tc.files)
	}
}
