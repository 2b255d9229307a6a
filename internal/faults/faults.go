// Package faults runs a trainer in a child process and hurts it there: a
// SIGKILL at a chosen point of the run (through the engine's fault hook)
// or at a random time, SIGTERM or SIGINT, or a file-size limit
// (RLIMIT_FSIZE: every write past N bytes fails with EFBIG, as on a full
// disk). The fault-injection tests of ner and pretrain use it: the child
// is the test binary itself, re-executed to run one test function that
// reads its Config from the environment.
package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

// EnvVar carries a child's Config (JSON).
const EnvVar = "BIOBERTPT_FAULT_CHILD"

// ExitError is a child's exit status when the trainer returned an error.
const ExitError = 3

// Config is one child run.
type Config struct {
	// Dir is the run's output directory.
	Dir string
	// Resume continues the run in Dir.
	Resume bool
	// KillAt > 0: the child SIGKILLs itself at its KillAt-th fault event
	// (engine.Hooks.Fault: after a step, inside a checkpoint write, after
	// a model directory is replaced, …).
	KillAt int
	// FileLimit > 0 sets RLIMIT_FSIZE from the start: a write that would
	// make a file larger fails with "file too large".
	FileLimit int64
	// DiskFullAt "point#n" fills the disk at the n-th fault event named
	// point: from then on every write of more than a byte fails (the
	// RLIMIT_FSIZE of 1 byte), so the next write the run makes after that
	// point is the one that fails.
	DiskFullAt string
	// SignalAfterStep > 0: the child's trainer waits after that step until
	// its context is cancelled by a signal (SIGINT or SIGTERM); ReadyFile
	// is created when it waits.
	SignalAfterStep int
	ReadyFile       string
	// EventsFile receives the number of fault events of the run.
	EventsFile string
	// Args are the trainer's own settings.
	Args map[string]string
}

// Child returns the Config of this process when it is a child.
func Child() (Config, bool) {
	raw := os.Getenv(EnvVar)
	if raw == "" {
		return Config{}, false
	}
	var c Config
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fmt.Fprintln(os.Stderr, "faults: bad", EnvVar, err)
		os.Exit(2)
	}
	return c, true
}

// Child side --------------------------------------------------------------

// Runner is a child's state.
type Runner struct {
	c      Config
	events int
	seen   map[string]int
	trace  []string
}

// Start applies the file-size limit and returns the child's Runner.
func (c Config) Start() *Runner {
	if c.FileLimit > 0 {
		setFileLimit(uint64(c.FileLimit))
	}
	return &Runner{c: c, seen: map[string]int{}}
}

func setFileLimit(n uint64) {
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
		fmt.Fprintln(os.Stderr, "faults: setrlimit:", err)
		os.Exit(2)
	}
}

// Fault is the engine's fault hook: it counts events and SIGKILLs the
// process at the KillAt-th.
func (r *Runner) Fault(point string) {
	r.events++
	r.seen[point]++
	name := fmt.Sprintf("%s#%d", point, r.seen[point])
	r.trace = append(r.trace, name)
	if name == r.c.DiskFullAt {
		setFileLimit(1)
	}
	if r.c.KillAt > 0 && r.events == r.c.KillAt {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}

// AfterStep blocks after step SignalAfterStep until ctx is cancelled (by
// the signal the parent sends once ReadyFile exists).
func (r *Runner) AfterStep(ctx context.Context, step int) {
	if r.c.SignalAfterStep == 0 || step != r.c.SignalAfterStep {
		return
	}
	if err := os.WriteFile(r.c.ReadyFile, []byte("ready\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(2)
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "faults: no signal came")
		os.Exit(2)
	}
}

// Exit ends the child: status 0, or ExitError after printing err.
func (r *Runner) Exit(err error) {
	if r.c.EventsFile != "" {
		_ = os.WriteFile(r.c.EventsFile, []byte(strings.Join(r.trace, "\n")), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(ExitError)
	}
	os.Exit(0)
}

// Parent side -------------------------------------------------------------

// Result is how a child run ended.
type Result struct {
	Code   int  // exit status (-1 when killed by a signal)
	Killed bool // ended by SIGKILL
	Stderr string
	// Events are the run's fault events in order, "point#n" (when it
	// exited normally).
	Events []string
}

// Run executes the test function test of the current test binary as a
// child with c. killAfter > 0 SIGKILLs it after that long; signal, when
// not 0, is sent once c.ReadyFile exists.
func Run(t *testing.T, test string, c Config, killAfter time.Duration, signal syscall.Signal) Result {
	t.Helper()
	if c.EventsFile == "" {
		c.EventsFile = filepath.Join(t.TempDir(), "events")
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), EnvVar+"="+string(raw))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if killAfter > 0 {
		timer := time.AfterFunc(killAfter, func() { _ = cmd.Process.Kill() })
		defer timer.Stop()
	}
	if signal != 0 {
		done := make(chan struct{})
		defer close(done)
		go func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(20 * time.Millisecond):
				}
				if _, err := os.Stat(c.ReadyFile); err == nil {
					_ = cmd.Process.Signal(signal)
					return
				}
			}
		}()
	}
	err = cmd.Wait()
	res := Result{Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.Code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			res.Killed = true
		}
	default:
		t.Fatal(err)
	}
	if b, err := os.ReadFile(c.EventsFile); err == nil {
		if len(b) > 0 {
			res.Events = strings.Split(string(b), "\n")
		}
		_ = os.Remove(c.EventsFile)
	}
	return res
}

// CheckIntact checks what a failed or killed run left in dir: no file
// half-written at its final name (every JSON file parses, every
// safetensors file's header covers it, every metrics.jsonl line is a
// whole JSON record), no empty file, every checkpoint directory with a
// trainer_state.json complete (trainstate.Load, checksums included; one
// without is a removal rotation did not finish, never taken for a
// checkpoint) and, when temps is false, no temporary file or directory of
// an interrupted write.
func CheckIntact(t *testing.T, dir string, temps bool) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		isTemp := strings.Contains(name, ".tmp-") || strings.Contains(name, ".old-")
		if isTemp {
			if !temps {
				t.Errorf("temporary %s left behind", p)
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case len(b) == 0:
			t.Errorf("empty file %s", p)
		case strings.HasSuffix(name, ".jsonl"):
			if b[len(b)-1] != '\n' {
				t.Errorf("%s: torn last line", p)
			}
			for i, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
				if !json.Valid(line) {
					t.Errorf("%s:%d: not a JSON record: %q", p, i+1, line)
				}
			}
		case strings.HasSuffix(name, ".json"):
			if !json.Valid(b) {
				t.Errorf("%s: not valid JSON", p)
			}
		case strings.HasSuffix(name, ".safetensors"):
			if _, _, err := safetensors.Parse(b); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			if cs, err := trainstate.List(p); err == nil {
				for _, c := range cs {
					dirs = append(dirs, c.Dir)
				}
			}
		}
		return nil
	})
	if cs, err := trainstate.List(dir); err == nil {
		for _, c := range cs {
			dirs = append(dirs, c.Dir)
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, trainstate.StateFile)); errors.Is(err, fs.ErrNotExist) {
			continue // a checkpoint whose removal (rotation) was interrupted: never valid
		}
		if _, err := trainstate.Load(d); err != nil {
			t.Errorf("checkpoint %s: %v", d, err)
		}
	}
}
