package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunCommandRecovers: a panic escaping a command (the patched gotch's
// Must* functions panic on libtorch errors) becomes an error, with the
// batch-size hint when an allocation failed; the exit status is 1.
func TestRunCommandRecovers(t *testing.T) {
	oom := command{name: "boom", run: func(*env, []string) error {
		panic(errors.New("CUDA out of memory. Tried to allocate 2.00 GiB\nmore"))
	}}
	err := runCommand(oom, &env{}, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, torchutil.ErrOutOfMemory)
	assert.ErrorContains(t, err, "boom: out of memory: reduce the batch size and use gradient accumulation")
	assert.ErrorContains(t, err, "\n"+cli.OOMFlagHint, "the command adds its flags")

	other := command{name: "bad", run: func(*env, []string) error { panic("index out of range") }}
	err = runCommand(other, &env{}, nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, torchutil.ErrOutOfMemory)
	assert.ErrorContains(t, err, "index out of range")

	ok := command{name: "fine", run: func(*env, []string) error { return nil }}
	assert.NoError(t, runCommand(ok, &env{}, nil))

	commands["boom-test"] = command{name: "boom-test", run: oom.run}
	defer delete(commands, "boom-test")
	var stderr bytes.Buffer
	assert.Equal(t, 1, run(&env{stderr: &stderr}, []string{"boom-test"}))
	assert.Contains(t, stderr.String(), "-grad-accum")
}
