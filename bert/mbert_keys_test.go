package bert

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/internal/optim"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/mbert_keys.txt")

// mbertShapedConfig has mBERT's layer and head structure (which alone
// decides the parameter names) with tiny sizes, so the test is fast.
func mbertShapedConfig() *Config {
	c := DefaultConfig() // mBERT: 12 layers, 12 heads
	c.VocabSize, c.HiddenSize, c.IntermediateSize, c.MaxPositionEmbeddings = 50, 24, 8, 16
	return c
}

// TestMBERTKeysAndNoDecay pins the parameter names of an mBERT-shaped
// BertForMaskedLM (HF's state-dict keys; STYLE §1) and which of them AdamW
// exempts from weight decay (HF Trainer: biases and LayerNorm weights).
func TestMBERTKeysAndNoDecay(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := mbertShapedConfig()
	require.Equal(t, 12, c.NumHiddenLayers)
	m, err := NewForMaskedLM(c, gotch.CPU)
	require.NoError(t, err)
	defer m.Close()
	var lines []string
	for _, p := range m.Parameters() {
		d := "decay"
		if optim.HFNoDecay(p.Name) {
			d = "no_decay"
		}
		lines = append(lines, p.Name+"\t"+d)
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "mbert_keys.txt")
	if *updateGolden {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
	// 12 layers x 16 tensors + 5 embedding tensors + 5 head tensors (the
	// decoder weight is tied to the word embeddings).
	assert.Len(t, lines, 12*16+5+5)
	noDecay := 0
	for _, l := range lines {
		if strings.HasSuffix(l, "\tno_decay") {
			noDecay++
		}
	}
	// per layer: 6 biases (q, k, v, attention out, intermediate, output) +
	// 2 biases of the two LayerNorms + 2 LayerNorm weights = 10; embeddings:
	// LayerNorm weight and bias; head: transform bias, LayerNorm weight and
	// bias, cls.predictions.bias.
	assert.Equal(t, 12*10+2+4, noDecay)
}
