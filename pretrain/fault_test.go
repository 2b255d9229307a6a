package pretrain

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/faults"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

// The fault suite of pretraining (see ner's for the NER trainer): Train in
// a child process, killed with SIGKILL at chosen points and at random
// times, stopped by SIGTERM and SIGINT, and with its disk filling at each
// kind of write; afterwards what is on disk must be intact and a resumed
// run must end with the uninterrupted run's final model, last checkpoint
// and losses, bit for bit.

// faultRun: the tiny model from scratch on 200 demo lines, dropout 0.1, 2
// epochs of 2 accumulated micro-batches a step, a checkpoint every 3 steps
// (2 kept).
func faultRun(in map[string]string, out string) TrainOptions {
	o := tinyOptions(in["config"], in["vocab"], in["corpus"], out)
	o.Epochs, o.GradAccum, o.SaveSteps, o.SaveTotalLimit = 2, 2, 3, 2
	return o
}

// TestFaultChild is the child process of the fault suite (it does nothing
// in a normal test run).
func TestFaultChild(t *testing.T) {
	c, ok := faults.Child()
	if !ok {
		t.Skip("the fault suite's child process")
	}
	runtime.LockOSThread()
	r := c.Start()
	o := faultRun(c.Args, c.Dir)
	o.Resume = c.Resume
	o.onFault(r.Fault)
	ctx := context.Background()
	if c.SignalAfterStep > 0 {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		o.OnStep = func(m StepMetrics) { r.AfterStep(ctx, m.Step) }
	}
	_, err := Train(ctx, o)
	r.Exit(err)
}

// runOutputs are the files a finished run must have written identically,
// and the metrics lines of its steps and evaluations (each step once).
func runOutputs(t *testing.T, dir string) (map[string]string, map[string]float64) {
	t.Helper()
	cs, err := trainstate.List(dir)
	require.NoError(t, err)
	require.NotEmpty(t, cs, dir)
	last := filepath.Base(cs[0].Dir)
	sums := map[string]string{}
	for _, p := range []string{"final/model.safetensors", last + "/model.safetensors", last + "/" + trainstate.OptimizerFile} {
		s, err := engine.HashFile(filepath.Join(dir, p))
		assert.NoError(t, err, "%s: %s", dir, p)
		sums[p] = s
	}
	b, err := os.ReadFile(filepath.Join(dir, metricsFile))
	require.NoError(t, err)
	vals := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		var key string
		var v float64
		switch m["kind"] {
		case "train":
			key, v = fmt.Sprintf("loss@%v", m["step"]), m["loss"].(float64)
		case "eval":
			key, v = fmt.Sprintf("eval_loss@%v", m["step"]), m["eval_loss"].(float64)
		default:
			continue
		}
		_, dup := vals[key]
		assert.False(t, dup, "%s: %s logged twice", dir, key)
		vals[key] = v
	}
	return sums, vals
}

func TestFaults(t *testing.T) {
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 200, 0.1)
	in := map[string]string{"config": cfgPath, "vocab": vocabPath, "corpus": corpus}
	ref := filepath.Join(dir, "ref")
	res := faults.Run(t, "TestFaultChild", faults.Config{Dir: ref, Args: in}, 0, 0)
	require.Equal(t, 0, res.Code, res.Stderr)
	events := res.Events
	require.Greater(t, len(events), 8)
	t.Logf("the run's fault events: %s", strings.Join(events, " "))
	want, wantVals := runOutputs(t, ref)
	finish := func(t *testing.T, out, what string) {
		t.Helper()
		res := faults.Run(t, "TestFaultChild", faults.Config{Dir: out, Resume: true, Args: in}, 0, 0)
		require.Equal(t, 0, res.Code, "%s: %s", what, res.Stderr)
		faults.CheckIntact(t, out, false)
		got, gotVals := runOutputs(t, out)
		assert.Equal(t, want, got, what)
		assert.Equal(t, wantVals, gotVals, what)
	}

	t.Run("kill", func(t *testing.T) {
		seeds := []uint64{4, 5, 6}
		if testing.Short() {
			seeds = seeds[:1]
		}
		kills := 0
		for si, seed := range seeds {
			r := rand.New(rand.NewPCG(seed, 99))
			out := filepath.Join(t.TempDir(), "run")
			for i := 0; i < 2; i++ {
				c := faults.Config{Dir: out, Resume: true, Args: in, KillAt: 1 + r.IntN(len(events))}
				var after time.Duration
				if si == len(seeds)-1 && i == 1 {
					c.KillAt, after = 0, time.Duration(1500+r.IntN(2500))*time.Millisecond
				}
				res := faults.Run(t, "TestFaultChild", c, after, 0)
				if res.Code == 0 {
					continue // the run ended before the kill
				}
				require.True(t, res.Killed, "seed %d kill %d: %s", seed, i, res.Stderr)
				kills++
				faults.CheckIntact(t, out, true)
			}
			finish(t, out, fmt.Sprintf("seed %d", seed))
		}
		t.Logf("%d kills -9 over %d seeds; every resumed run bit-identical to the uninterrupted one", kills, len(seeds))
		assert.GreaterOrEqual(t, kills, len(seeds))
	})

	t.Run("signals", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			step := 2 + 2*i
			c := faults.Config{Dir: out, Resume: true, SignalAfterStep: step, ReadyFile: filepath.Join(t.TempDir(), "ready"), Args: in}
			res := faults.Run(t, "TestFaultChild", c, 0, sig)
			assert.Equal(t, faults.ExitError, res.Code, res.Stderr)
			assert.Contains(t, res.Stderr, fmt.Sprintf("interrupted at step %d", step))
			assert.Contains(t, res.Stderr, sig.String())
			assert.Contains(t, res.Stderr, "resumable checkpoint "+filepath.Join(out, trainstate.DirName(int64(step))))
			faults.CheckIntact(t, out, false)
		}
		finish(t, out, "signals")
	})

	// The disk fills at a chosen point, so that the next write fails: the
	// run manifest, the token cache, a checkpoint's model and optimizer
	// state, a metrics line, the final model.
	t.Run("full-disk", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		cases := []struct{ at, write string }{
			{"", "run.json"},
			{"stage-start#1", "cache"},
			{"checkpoint-start#1", "model.safetensors"},
			{"checkpoint-files#1", "optimizer.safetensors"},
			{"checkpoint#1", metricsFile},
			{"trained#1", "final"},
		}
		for _, tc := range cases {
			c := faults.Config{Dir: out, Resume: true, DiskFullAt: tc.at, Args: in}
			if tc.at == "" {
				c.FileLimit = 1
			}
			res := faults.Run(t, "TestFaultChild", c, 0, 0)
			require.Equal(t, faults.ExitError, res.Code, "disk full at %q: %s", tc.at, res.Stderr)
			assert.Contains(t, res.Stderr, "file too large", "disk full at %q", tc.at)
			assert.Contains(t, res.Stderr, tc.write, "disk full at %q", tc.at)
			t.Logf("disk full at %q: %s", tc.at, strings.SplitN(res.Stderr, "\n", 2)[0])
			faults.CheckIntact(t, out, false)
		}
		finish(t, out, "full disk")
	})
}
