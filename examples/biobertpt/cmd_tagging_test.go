package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/ner"
)

func TestSplitWordsCommand(t *testing.T) {
	code, stdout, stderr := runNERCmd("Hb 10,2 g/dL (angio-TC).\nçé 🙂 150/90\n", "split-words")
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 2)
	var ws []splitWord
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &ws))
	assert.Equal(t, []splitWord{{"Hb", 0, 2}, {"10,2", 3, 7}, {"g/dL", 8, 12}, {"(", 13, 14}, {"angio-TC", 14, 22}, {")", 22, 23}, {".", 23, 24}}, ws)
	require.NoError(t, json.Unmarshal([]byte(lines[1]), &ws))
	assert.Equal(t, []splitWord{{"çé", 0, 2}, {"🙂", 3, 4}, {"150/90", 5, 11}}, ws)

	code, stdout, stderr = runNERCmd("150/90\n", "split-words", "-splitter", "bert")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, `[{"text":"150","start":0,"end":3},{"text":"/","start":3,"end":4},{"text":"90","start":4,"end":6}]`+"\n", stdout)

	code, _, stderr = runNERCmd("", "split-words", "-splitter", "spacy")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "-splitter")
}

// TestTrainNERFromConfig trains a randomly initialised model with a CRF
// head from -config and -vocab, records the word splitter, and predict cuts
// raw text with it and decodes valid IOB2.
func TestTrainNERFromConfig(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	data := testutil.NERDir(t, 12)
	model := nerTinyModel(t, 0)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runNERCmd("", "train-ner", "-corpus", "clinpt", "-data", data, "-config", filepath.Join(model, "config.json"),
		"-vocab", filepath.Join(model, "vocab.txt"), "-out", out, "-quiet", "-epochs", "1", "-batch", "8", "-lr", "5e-3", "-max-len", "64", "-stride", "16", "-max-steps", "2", "-crf")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "micro avg")
	best := filepath.Join(out, ner.BestDirName)
	assert.FileExists(t, filepath.Join(best, ner.CRFFile))
	mc, err := ner.ReadModelConfig(best)
	require.NoError(t, err)
	assert.Equal(t, "clinical", string(mc.WordSplitter))
	run, err := os.ReadFile(filepath.Join(out, "run.json"))
	require.NoError(t, err)
	assert.Contains(t, string(run), "model_config_sha256")

	code, stdout, stderr = runNERCmd("Hb 10,2 g/dL e TA 150/90 mmHg.\n", "predict", "-model", best, "-format", "conll")
	require.Equal(t, 0, code, stderr)
	var words, tags []string
	for _, row := range strings.Split(strings.TrimSpace(stdout), "\n") {
		f := strings.Split(row, "\t")
		require.Len(t, f, 2, row)
		words, tags = append(words, f[0]), append(tags, f[1])
	}
	assert.Equal(t, []string{"Hb", "10,2", "g/dL", "e", "TA", "150/90", "mmHg", "."}, words)
	_, err = ner.Spans(tags, ner.IOB2)
	require.NoError(t, err, "valid IOB2: %v", tags)
	for i, tg := range tags {
		if strings.HasPrefix(tg, "I-") {
			require.Positive(t, i, tags)
			assert.NotEqual(t, "O", tags[i-1], "viterbi never puts I- after O: %v", tags)
		}
	}

	code, stdout, stderr = runNERCmd("TA 150/90 mmHg.\n", "predict", "-model", best, "-format", "conll", "-splitter", "bert", "-decode", "argmax")
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(stdout, "TA\t"), stdout)
	assert.Contains(t, stdout, "\n/\t")

	for _, dec := range []string{"viterbi", "argmax"} {
		code, stdout, stderr = runNERCmd("", "eval-ner", "-model", best, "-corpus", "clinpt", "-data", data, "-out", t.TempDir(), "-max-len", "64", "-decode", dec)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "micro avg")
	}
	code, _, _ = runNERCmd("", "eval-ner", "-model", best, "-corpus", "clinpt", "-data", data, "-out", t.TempDir(), "-decode", "beam")
	assert.Equal(t, 2, code)

	for _, bad := range [][]string{{"-model", model, "-config", filepath.Join(model, "config.json")}, {"-config", filepath.Join(model, "config.json")}} {
		code, _, stderr = runNERCmd("", append([]string{"train-ner", "-corpus", "clinpt", "-data", data, "-out", t.TempDir()}, bad...)...)
		assert.Equal(t, 2, code, stderr)
	}
}
