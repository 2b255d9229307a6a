package testutil

import (
	"bytes"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
)

// Run is an example program's run function (what cli.Main calls).
type Run func(args []string, stdout, stderr io.Writer) error

// UsageError runs args and checks that run fails with a usage error
// (cli.ErrUsage, exit status 2) whose message contains want.
func UsageError(t *testing.T, run Run, args []string, want string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(args, &stdout, &stderr)
	require.Error(t, err)
	assert.ErrorIs(t, err, cli.ErrUsage)
	assert.Contains(t, err.Error(), want)
}

// Help runs -h and checks that run returns flag.ErrHelp and that the help
// on stderr contains each of wants.
func Help(t *testing.T, run Run, wants ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	assert.ErrorIs(t, run([]string{"-h"}, &stdout, &stderr), flag.ErrHelp)
	for _, want := range wants {
		assert.Contains(t, stderr.String(), want)
	}
}
