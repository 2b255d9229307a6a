// Package disttest runs a test binary's child test as the ranks of a
// data-parallel run on 127.0.0.1, for the data-parallel tests of the
// trainers: the parent starts n copies of the binary with the torchrun
// environment and a spec in an environment variable; each child reads the
// spec back with Spec.
package disttest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/dist"
	"github.com/stretchr/testify/require"
)

// Spec returns the child's arguments, a "k=v;k=v" list in the
// environment variable name, and false in a normal test run.
func Spec(name string) (map[string]string, bool) {
	spec := os.Getenv(name)
	if spec == "" {
		return nil, false
	}
	args := map[string]string{}
	for _, kv := range strings.Split(spec, ";") {
		k, v, _ := strings.Cut(kv, "=")
		args[k] = v
	}
	return args, true
}

// Run is a finished (or failed) run of n processes.
type Run struct {
	Codes   []int     // exit codes; -signal for a process killed by one
	Outputs []string  // stdout and stderr of each process
	Seconds []float64 // each process's wall time
}

// Ranks runs the test child (a -test.run pattern) of this binary as n
// processes with spec in the environment variable name (n = 1: no
// distributed environment, one thread each) and waits for all of them.
func Ranks(t *testing.T, n int, child, name, spec string) Run {
	t.Helper()
	port, err := dist.FreePort("127.0.0.1")
	require.NoError(t, err)
	cmds := make([]*exec.Cmd, n)
	bufs := make([]*bytes.Buffer, n)
	t0 := time.Now()
	for r := range cmds {
		c := exec.Command(os.Args[0], "-test.run="+child)
		env := []string{name + "=" + spec, "OMP_NUM_THREADS=1"}
		if n > 1 {
			env = append(env, fmt.Sprintf("RANK=%d", r), fmt.Sprintf("WORLD_SIZE=%d", n), fmt.Sprintf("LOCAL_RANK=%d", r),
				"MASTER_ADDR=127.0.0.1", fmt.Sprintf("MASTER_PORT=%d", port))
		}
		for _, kv := range os.Environ() {
			switch k, _, _ := strings.Cut(kv, "="); k {
			case "RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS", name:
			default:
				env = append(env, kv)
			}
		}
		c.Env = env
		bufs[r] = &bytes.Buffer{}
		c.Stdout, c.Stderr = bufs[r], bufs[r]
		require.NoError(t, c.Start())
		cmds[r] = c
	}
	res := Run{Codes: make([]int, n), Outputs: make([]string, n), Seconds: make([]float64, n)}
	done := make(chan struct{}, n)
	for r, c := range cmds {
		go func(r int, c *exec.Cmd) {
			_ = c.Wait()
			res.Codes[r] = c.ProcessState.ExitCode()
			if ws, ok := c.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				res.Codes[r] = -int(ws.Signal())
			}
			res.Seconds[r] = time.Since(t0).Seconds()
			done <- struct{}{}
		}(r, c)
	}
	for range cmds {
		<-done
	}
	for r := range bufs {
		res.Outputs[r] = bufs[r].String()
	}
	return res
}
