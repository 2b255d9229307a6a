package dist

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LaunchOptions configures Launch. Start from DefaultLaunchOptions().
type LaunchOptions struct {
	// NProc is the number of processes (ranks) to start on this machine.
	NProc int
	// Command is the program and its arguments, run once per rank.
	Command []string
	// MasterAddr is the rendezvous address given to the ranks: 127.0.0.1.
	MasterAddr string
	// MasterPort is the rendezvous port; 0 (default) picks a free one.
	MasterPort int
	// Env is the environment the ranks start from; nil = os.Environ().
	// Launch adds RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
	// MASTER_ADDR, MASTER_PORT and, when the environment has none,
	// OMP_NUM_THREADS = max(1, CPUs / NProc), so that the ranks do not
	// oversubscribe the cores (torchrun sets 1).
	Env []string
	// Stdout and Stderr receive the ranks' output lines, each prefixed
	// with "[rank k] "; nil = os.Stdout, os.Stderr.
	Stdout, Stderr io.Writer
	// Signals are forwarded to every running rank (its process group); nil
	// = SIGINT and SIGTERM sent to this process.
	Signals <-chan os.Signal
	// KillGrace is how long ranks may take to exit after they were asked
	// to stop (a rank failed, a signal was forwarded, ctx was cancelled)
	// before they are killed: 30s, as torchrun.
	KillGrace time.Duration
}

// DefaultLaunchOptions returns the defaults documented on LaunchOptions.
func DefaultLaunchOptions() LaunchOptions {
	return LaunchOptions{NProc: 1, MasterAddr: "127.0.0.1", KillGrace: 30 * time.Second}
}

// Validate names the first bad field.
func (o LaunchOptions) Validate() error {
	switch {
	case o.NProc < 1:
		return fmt.Errorf("dist: launch: NProc %d must be at least 1", o.NProc)
	case len(o.Command) == 0 || o.Command[0] == "":
		return errors.New("dist: launch: Command is empty")
	case o.MasterAddr == "":
		return errors.New("dist: launch: MasterAddr is empty")
	case o.MasterPort < 0 || o.MasterPort > 65535:
		return fmt.Errorf("dist: launch: MasterPort %d out of range 0-65535", o.MasterPort)
	case o.KillGrace <= 0:
		return fmt.Errorf("dist: launch: KillGrace %s must be positive", o.KillGrace)
	}
	return nil
}

// RankError is Launch's error when a rank failed: the first rank that
// exited non-zero or was killed, while the others were still running or
// had succeeded.
type RankError struct {
	Rank     int
	Pid      int
	ExitCode int    // -1 when killed by a signal
	Signal   string // the signal that killed it, or ""
	// After is the signal Launch had forwarded before the rank failed
	// (nil: none; the rank failed of its own accord).
	After os.Signal
}

func (e *RankError) Error() string {
	s := fmt.Sprintf("rank %d (pid %d) exited with status %d", e.Rank, e.Pid, e.ExitCode)
	if e.Signal != "" {
		s = fmt.Sprintf("rank %d (pid %d) was killed by signal %s", e.Rank, e.Pid, e.Signal)
	}
	if e.After != nil {
		s += fmt.Sprintf(" after %s was forwarded", e.After)
	}
	return "dist: launch: " + s
}

// FreePort returns a TCP port of addr that was free a moment ago.
func FreePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, fmt.Errorf("dist: free port on %s: %w", addr, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Launch runs o.Command as o.NProc ranks of one distributed run on this
// machine, as torchrun --standalone does: each gets the environment EnvFrom
// reads, and its output lines prefixed with "[rank k] ". Signals are
// forwarded to every rank. When a rank fails, the others are sent SIGTERM
// (then SIGKILL after KillGrace) and Launch returns a *RankError naming
// it; when ctx is cancelled the ranks are stopped the same way. Launch
// returns nil when every rank exits 0.
func Launch(ctx context.Context, o LaunchOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	sigs := o.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		defer signal.Stop(ch)
		sigs = ch
	}
	port := o.MasterPort
	if port == 0 {
		var err error
		if port, err = FreePort(o.MasterAddr); err != nil {
			return err
		}
	}
	base := o.Env
	if base == nil {
		base = os.Environ()
	}
	threads := ""
	if !hasEnv(base, "OMP_NUM_THREADS") {
		threads = strconv.Itoa(max(1, runtime.NumCPU()/o.NProc))
	}
	// The parent-death signal that stops the ranks when this process dies
	// is tied to the OS thread that started them: keep it alive.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	var outMu sync.Mutex
	type result struct {
		rank int
		pid  int
		err  error
	}
	results := make(chan result, o.NProc)
	procs := make([]*os.Process, o.NProc)
	done := make([]bool, o.NProc)
	for k := 0; k < o.NProc; k++ {
		cmd := exec.Command(o.Command[0], o.Command[1:]...)
		cmd.Env = rankEnv(base, k, o.NProc, o.MasterAddr, port, threads)
		cmd.SysProcAttr = launchAttr()
		stdout, err := cmd.StdoutPipe()
		if err == nil {
			var stderr io.ReadCloser
			if stderr, err = cmd.StderrPipe(); err == nil {
				if err = cmd.Start(); err == nil {
					procs[k] = cmd.Process
					var wg sync.WaitGroup
					wg.Add(2)
					prefix := fmt.Sprintf("[rank %d] ", k)
					go func() { defer wg.Done(); copyLines(o.Stdout, stdout, prefix, &outMu) }()
					go func() { defer wg.Done(); copyLines(o.Stderr, stderr, prefix, &outMu) }()
					go func(k int) {
						wg.Wait()
						results <- result{rank: k, pid: cmd.Process.Pid, err: cmd.Wait()}
					}(k)
					continue
				}
			}
		}
		// Not started: stop the ranks that are, then report.
		for j := 0; j < k; j++ {
			signalRank(procs[j], syscall.SIGKILL)
		}
		for j := 0; j < k; j++ {
			<-results
		}
		return fmt.Errorf("dist: launch: start rank %d (%s): %w", k, o.Command[0], err)
	}

	var first *RankError
	var forwarded os.Signal
	var killTimer <-chan time.Time
	ctxDone := ctx.Done()
	stop := func(sig os.Signal) {
		for k, p := range procs {
			if !done[k] {
				signalRank(p, sig)
			}
		}
		if killTimer == nil {
			killTimer = time.After(o.KillGrace)
		}
	}
	for running := o.NProc; running > 0; {
		select {
		case r := <-results:
			running--
			done[r.rank] = true
			if r.err != nil && first == nil {
				first = &RankError{Rank: r.rank, Pid: r.pid, ExitCode: -1, After: forwarded}
				var ee *exec.ExitError
				if errors.As(r.err, &ee) {
					first.ExitCode = ee.ExitCode()
					if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
						first.Signal = ws.Signal().String()
					}
				} else {
					first.Signal = r.err.Error()
				}
				stop(syscall.SIGTERM)
			}
		case s := <-sigs:
			forwarded = s
			stop(s)
		case <-ctxDone:
			ctxDone = nil
			forwarded = syscall.SIGTERM
			stop(syscall.SIGTERM)
		case <-killTimer:
			for k, p := range procs {
				if !done[k] {
					signalRank(p, syscall.SIGKILL)
				}
			}
		}
	}
	if first != nil {
		return first
	}
	if ctx.Err() != nil {
		return fmt.Errorf("dist: launch: %w", ctx.Err())
	}
	return nil
}

// rankEnv is base without the variables Launch sets, then those.
func rankEnv(base []string, rank, world int, addr string, port int, threads string) []string {
	set := map[string]string{
		"RANK": strconv.Itoa(rank), "LOCAL_RANK": strconv.Itoa(rank), "GROUP_RANK": "0",
		"WORLD_SIZE": strconv.Itoa(world), "LOCAL_WORLD_SIZE": strconv.Itoa(world),
		"MASTER_ADDR": addr, "MASTER_PORT": strconv.Itoa(port),
	}
	if threads != "" {
		set["OMP_NUM_THREADS"] = threads
	}
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ours := set[k]; !ours {
			out = append(out, kv)
		}
	}
	for _, k := range []string{"RANK", "LOCAL_RANK", "GROUP_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS"} {
		if v, ok := set[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// copyLines copies r to w line by line ('\n' or '\r' ends a line, so that
// progress bars stay whole), each line prefixed, under mu so that lines of
// different ranks never interleave. A last line without an end gets '\n'.
func copyLines(w io.Writer, r io.Reader, prefix string, mu *sync.Mutex) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			return i + 1, data[:i+1], nil
		}
		if len(data) > 0 && (atEOF || len(data) >= 32<<10) {
			return len(data), data, nil // a last line, or a very long one in pieces
		}
		return 0, nil, nil
	})
	var buf []byte
	for sc.Scan() {
		line := sc.Bytes()
		buf = append(append(buf[:0], prefix...), line...)
		if last := line[len(line)-1]; last != '\n' && last != '\r' {
			buf = append(buf, '\n')
		}
		mu.Lock()
		_, _ = w.Write(buf)
		mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r) // after a read error, keep the rank from blocking on a full pipe
}
