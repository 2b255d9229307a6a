// Package safetensorstest edits the weights of a saved model directory in
// tests: planting NaN, ±Inf or huge values in model.safetensors to check
// that loading and inference refuse them.
package safetensorstest

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
)

// ModelFile is the weights file of an HF model directory.
const ModelFile = "model.safetensors"

// Edit rewrites dir's model.safetensors: edit is called with each
// float32 tensor's checkpoint key and its values, which it may change in
// place. Tests use it to plant NaN, ±Inf or huge values.
func Edit(t testing.TB, dir string, edit func(key string, vals []float32)) {
	t.Helper()
	path := filepath.Join(dir, ModelFile)
	w, meta, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	for k, tt := range w {
		if tt.DType != safetensors.F32 {
			continue
		}
		vals := make([]float32, len(tt.Data)/4)
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(tt.Data[4*i:]))
		}
		edit(k, vals)
		data := make([]byte, len(tt.Data))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
		}
		tt.Data = data
		w[k] = tt
	}
	require.NoError(t, safetensors.WriteFile(path, w, meta))
}

// Set sets element i of the checkpoint tensor key in dir's
// model.safetensors to v (Edit); the key must exist.
func Set(t testing.TB, dir, key string, i int, v float32) {
	t.Helper()
	found := false
	Edit(t, dir, func(k string, vals []float32) {
		if k == key {
			vals[i], found = v, true
		}
	})
	require.True(t, found, "safetensorstest: no float32 tensor %q in %s", key, dir)
}
