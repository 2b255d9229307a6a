package bert

import (
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch/ts"
)

// TestCloseFreesTensors: Close frees every parameter tensor of a model
// (each leaves gotch's registry of live tensors, whatever finalizers do
// meanwhile with other tests' tensors) and a second Close does nothing.
// The models are loaded, not initialised, so the test draws nothing from
// the global RNG that later examples rely on.
func TestCloseFreesTensors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // as TestNoLeaks: no new finalizers touch the registry
	type closer interface {
		Close() error
		Parameters() []Param
	}
	load := map[string]func() (closer, error){
		"mlm": func() (closer, error) {
			m, _, err := LoadForMaskedLM(filepath.Join("testdata", "tiny", "mlm"), LoadOptions{})
			return m, err
		},
		"token-classification": func() (closer, error) {
			m, _, err := LoadForTokenClassification(filepath.Join("testdata", "tiny", "token-classification"), LoadOptions{})
			return m, err
		},
		"model": func() (closer, error) {
			m, _, err := LoadModel(filepath.Join("testdata", "tiny", "base"), LoadOptions{})
			return m, err
		},
	}
	live := func(names []string) int {
		n := 0
		for _, name := range names {
			if _, ok := ts.ExistingTensors[name]; ok {
				n++
			}
		}
		return n
	}
	for name, f := range load {
		t.Run(name, func(t *testing.T) {
			m, err := f()
			require.NoError(t, err)
			var names []string
			for _, p := range m.Parameters() {
				names = append(names, p.Tensor.Name())
			}
			require.NotEmpty(t, names)
			assert.Equal(t, len(names), live(names), "parameters live before Close")
			require.NoError(t, m.Close())
			assert.Zero(t, live(names), "parameters live after Close")
			require.NoError(t, m.Close(), "second Close")
			runtime.KeepAlive(m)
		})
	}
}
