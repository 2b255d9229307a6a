//go:build linux

package testutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// The environment through which RunLimited starts its child.
const (
	limitEnv = "BIOBERTPT_TEST_FILE_SIZE_LIMIT"
	argsEnv  = "BIOBERTPT_TEST_ARGS"
)

// LimitedChild is the body of the helper test TestLimitedChild that a
// package using RunLimited defines:
//
//	func TestLimitedChild(t *testing.T) { testutil.LimitedChild(t, mainFunc) }
//
// In the child process RunLimited starts, it limits file sizes, runs main
// with the child's arguments on a locked OS thread and exits with its
// status; in an ordinary test run it skips.
func LimitedChild(t *testing.T, main func(args []string) int) {
	lim := os.Getenv(limitEnv)
	if lim == "" {
		t.Skip("runs only as RunLimited's child process")
	}
	runtime.LockOSThread()
	n, err := strconv.ParseUint(lim, 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testutil: bad", limitEnv, lim)
		os.Exit(125)
	}
	var args []string
	if err := json.Unmarshal([]byte(os.Getenv(argsEnv)), &args); err != nil {
		fmt.Fprintln(os.Stderr, "testutil: bad", argsEnv, err)
		os.Exit(125)
	}
	// Go ignores SIGXFSZ, so a write past the limit fails with EFBIG.
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		fmt.Fprintln(os.Stderr, "testutil: setrlimit:", err)
		os.Exit(125)
	}
	os.Exit(main(args))
}

// RunLimited runs args through the package's main function (see
// LimitedChild) in a child process, this test binary running
// TestLimitedChild, in which no file can
// grow beyond limit bytes (RLIMIT_FSIZE): a write past the limit stores
// what fits and fails with EFBIG ("file too large"), the way a write to a
// full disk stores what fits and fails with ENOSPC. It returns the exit
// status and the outputs.
func RunLimited(t testing.TB, limit int64, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	js, err := json.Marshal(args)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLimitedChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), limitEnv+"="+strconv.FormatInt(limit, 10), argsEnv+"="+string(js))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		require.NoError(t, err)
	}
	require.NotEqual(t, 125, code, "child setup failed: %s", errb.String())
	return code, out.String(), errb.String()
}

// TmpfsDir mounts a tmpfs of size bytes (rounded up to pages) on a new
// temporary directory, to be filled up for real full-disk tests, and
// unmounts it when the test ends. It skips the test where mounting is not
// allowed (not root, or a container without CAP_SYS_ADMIN).
func TmpfsDir(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Skipf("cannot mount a tmpfs (%v): the full-disk test needs root", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// FillDisk writes dir/filler so that the file system holding dir has
// about room bytes left (tmpfs counts whole pages), and returns the bytes
// actually left.
func FillDisk(t testing.TB, dir string, room int64) int64 {
	t.Helper()
	free := func() int64 {
		var st syscall.Statfs_t
		require.NoError(t, syscall.Statfs(dir, &st))
		return int64(st.Bavail) * st.Bsize
	}
	n := free() - room
	require.GreaterOrEqual(t, n, int64(0), "the file system has less than %d bytes free", room)
	require.NoError(t, os.WriteFile(dir+"/filler", make([]byte, n), 0o644))
	return free()
}
