package bert

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// TestSentinelErrors checks that the conditions callers branch on are
// recognisable with errors.Is whatever the message says.
func TestSentinelErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	src := filepath.Join("testdata", "tiny", "mlm")

	_, _, err := LoadModel(filepath.Join(t.TempDir(), "nope"), LoadOptions{})
	assert.ErrorIs(t, err, ErrModelNotFound, "missing directory")
	assert.ErrorIs(t, err, os.ErrNotExist)

	noWeights := t.TempDir()
	require.NoError(t, copyFile(filepath.Join(src, ConfigFile), filepath.Join(noWeights, ConfigFile)))
	_, _, err = LoadModel(noWeights, LoadOptions{})
	assert.ErrorIs(t, err, ErrModelNotFound, "missing weights")

	w, _, err := safetensors.ReadFile(filepath.Join(src, SafetensorsFile))
	require.NoError(t, err)
	cfg, err := LoadConfig(filepath.Join(src, ConfigFile))
	require.NoError(t, err)
	cfg.VocabSize++
	bad := t.TempDir()
	require.NoError(t, cfg.Save(filepath.Join(bad, ConfigFile)))
	require.NoError(t, safetensors.WriteFile(filepath.Join(bad, SafetensorsFile), w, map[string]string{"format": "pt"}))
	_, _, err = LoadForMaskedLM(bad, LoadOptions{})
	assert.ErrorIs(t, err, ErrMismatch, "vocab_size differs from the checkpoint")
	assert.NotErrorIs(t, err, ErrModelNotFound)

	m, err := NewForTokenClassification(TinyConfig(), gotch.CPU)
	require.NoError(t, err)
	defer m.Close()
	s := tensors.NewScope()
	defer s.Drop()
	long := make([]int64, TinyConfig().MaxPositionEmbeddings+1)
	_, err = m.Forward(Inputs{InputIDs: int64Tensor(t, s, [][]int64{long})}, false)
	assert.ErrorIs(t, err, ErrMismatch, "sequence longer than max_position_embeddings")

	oom := torchutil.WrapOOM(errors.New("CUDA out of memory. Tried to allocate 2.00 GiB"), "ner: train step 3, batch 8 × 256 on cuda:0")
	assert.ErrorIs(t, oom, ErrOutOfMemory)
	assert.True(t, IsOutOfMemory(oom))
	assert.True(t, IsOutOfMemory(errors.New("DefaultCPUAllocator: can't allocate memory")), "raw libtorch message")
	assert.False(t, IsOutOfMemory(nil))
	assert.False(t, IsOutOfMemory(err))
	assert.NotContains(t, oom.Error(), "-batch", "library errors name no command-line flag")

	c := fmt.Errorf("ner: predict: %w", torchutil.Cancelled(context.Canceled))
	assert.ErrorIs(t, c, ErrCancelled)
	assert.ErrorIs(t, c, context.Canceled)
	assert.Equal(t, "ner: predict: context canceled", c.Error())
}
