package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/dist"
)

func runLaunchCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, append([]string{"launch"}, args...))
	return code, out.String(), errb.String()
}

func TestLaunchCommand(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	code, out, errs := runLaunchCmd(t, "-nproc", "2", "--", "sh", "-c", `echo "rank $RANK of $WORLD_SIZE local $LOCAL_RANK at $MASTER_ADDR"; echo oops >&2`)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "[rank 0] rank 0 of 2 local 0 at 127.0.0.1\n")
	assert.Contains(t, out, "[rank 1] rank 1 of 2 local 1 at 127.0.0.1\n")
	assert.Contains(t, errs, "[rank 1] oops\n")

	code, _, errs = runLaunchCmd(t, "-nproc", "2", "-kill-grace", "1s", "--", "sh", "-c", `if [ "$RANK" = 1 ]; then exit 3; fi; sleep 60`)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "biobertpt launch: dist: launch: rank 1 (pid ")
	assert.Contains(t, errs, "exited with status 3")
}

func TestLaunchCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nproc", "0", "--", "sh"}, "-nproc 0"},
		{[]string{"-nproc", "2"}, "no command"},
		{[]string{"-nproc", "2", "--", "launch"}, "cannot launch itself"},
		{[]string{"-kill-grace", "0s", "--", "sh"}, "-kill-grace 0s"},
		{[]string{"-master-port", "-1", "--", "sh"}, "-master-port -1"},
	} {
		code, _, errs := runLaunchCmd(t, tc.args...)
		assert.Equal(t, 2, code, tc.args)
		assert.Contains(t, errs, tc.want, tc.args)
	}
}

func TestLaunchRunsBiobertptCommandsWithThisBinary(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	got, err := launchCommand([]string{"info", "-model", "m"})
	require.NoError(t, err)
	assert.Equal(t, []string{exe, "info", "-model", "m"}, got)
	got, err = launchCommand([]string{"python3", "train.py"})
	require.NoError(t, err)
	assert.Equal(t, []string{"python3", "train.py"}, got)
}

func TestDistSummary(t *testing.T) {
	b, note := dist.BackendsCompiled()
	s := distSummary()
	if len(b) == 0 {
		assert.True(t, strings.HasPrefix(s, "none"), s)
	} else {
		assert.True(t, strings.HasPrefix(s, strings.Join(b, ",")), s)
	}
	if note != "" {
		assert.Contains(t, s, note)
	}
}
