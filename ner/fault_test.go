package ner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/internal/faults"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// The fault suite: train-ner's run (ner.Train) in a child process, killed
// with SIGKILL at chosen points (after a step, inside a checkpoint write,
// after best/ or epoch-N/ is replaced) and at random times, stopped by
// SIGTERM and SIGINT, and run out of disk space (RLIMIT_FSIZE) at several
// sizes; after each, what is on disk must be intact and a resumed run must
// end with the uninterrupted run's models, checkpoint, test report and
// step losses, bit for bit.

// faultRun is the run every case trains: the demo corpus's first
// documents, a tiny model with dropout 0.1, 2 epochs, a checkpoint every 3
// steps and at epoch ends (2 kept), the last epoch's model kept.
func faultRun(out string) TrainOptions {
	o := fastOptions(out)
	o.Epochs, o.BatchSize, o.GradAccum, o.LogSteps = 2, 8, 2, 1
	o.SaveSteps, o.SaveTotalLimit, o.SaveEpochModels = 3, 2, 1
	o.Resume = true
	return o
}

// TestFaultChild is the child process of the fault suite (it does nothing
// in a normal test run).
func TestFaultChild(t *testing.T) {
	c, ok := faults.Child()
	if !ok {
		t.Skip("the fault suite's child process")
	}
	r := c.Start()
	tok, err := tokenize.LoadVocabFile(c.Args["vocab"], tokenize.DefaultOptions())
	if err != nil {
		r.Exit(err)
	}
	corpus, err := ReadCLINpt(c.Args["data"], CLINptOptions{})
	if err != nil {
		r.Exit(err)
	}
	full, err := SplitDocuments(corpus, 0.6, 0.2, 42)
	if err != nil {
		r.Exit(err)
	}
	split := faultSplit(full)
	o := faultRun(c.Dir)
	o.Resume = c.Resume
	o.onFault(r.Fault)
	ctx := context.Background()
	if c.SignalAfterStep > 0 {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		o.OnStep = func(m StepMetrics) { r.AfterStep(ctx, m.Step) }
	}
	_, err = Train(ctx, c.Args["model"], tok, split, o)
	r.Exit(err)
}

func faultSplit(full Split) Split {
	return Split{Train: full.Train.subset(full.Train.Documents[:6]), Dev: full.Dev.subset(full.Dev.Documents[:2]),
		Test: full.Test.subset(full.Test.Documents[:2]), Seed: full.Seed, TrainFraction: full.TrainFraction, DevFraction: full.DevFraction}
}

// faultFixture writes the child's inputs: the demo corpus, the vocabulary
// and a fresh tiny model.
func faultFixture(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	_, err := demodata.WriteNER(data, 0)
	require.NoError(t, err)
	vocab := filepath.Join(dir, "vocab.txt")
	require.NoError(t, os.WriteFile(vocab, demodata.Vocab(), 0o644))
	tok := demoTokenizer(t)
	return map[string]string{"data": data, "vocab": vocab,
		"model": saveFreshModel(t, tok, tinyConfig(tok, 0.1), []string{"LABEL_0", "LABEL_1"}, -1)}
}

// runOutputs are the files a finished run must have written identically,
// and the step losses of its metrics.jsonl (each step once).
func runOutputs(t *testing.T, dir string) (map[string]string, map[float64]float64) {
	t.Helper()
	cs, err := trainstate.List(dir)
	require.NoError(t, err)
	require.NotEmpty(t, cs, dir)
	last := filepath.Base(cs[0].Dir)
	sums := map[string]string{}
	for _, p := range []string{"best/model.safetensors", "epoch-2/model.safetensors", last + "/model.safetensors",
		last + "/" + trainstate.OptimizerFile, TestReportJSONName, TestPredName, TestConllevalName} {
		sums[p] = fileSum(t, filepath.Join(dir, p))
		assert.NotEmpty(t, sums[p], "%s: %s", dir, p)
	}
	losses := map[float64]float64{}
	for _, l := range readJSONL(t, filepath.Join(dir, MetricsFileName)) {
		if l["kind"] != "train" {
			continue
		}
		step := l["step"].(float64)
		_, dup := losses[step]
		assert.False(t, dup, "%s: step %v logged twice", dir, step)
		losses[step] = l["loss"].(float64)
	}
	return sums, losses
}

// TestFaults runs the suite's cases against one uninterrupted reference
// run. Each case works in its own directory and ends with a resumed run
// that must reproduce the reference exactly.
func TestFaults(t *testing.T) {
	in := faultFixture(t)
	ref := filepath.Join(t.TempDir(), "ref")
	res := faults.Run(t, "TestFaultChild", faults.Config{Dir: ref, Args: in}, 0, 0)
	require.Equal(t, 0, res.Code, res.Stderr)
	events := res.Events
	require.Greater(t, len(events), 10)
	t.Logf("the run's fault events: %s", strings.Join(events, " "))
	want, wantLosses := runOutputs(t, ref)
	finish := func(t *testing.T, out, what string) {
		t.Helper()
		res := faults.Run(t, "TestFaultChild", faults.Config{Dir: out, Resume: true, Args: in}, 0, 0)
		require.Equal(t, 0, res.Code, "%s: %s", what, res.Stderr)
		faults.CheckIntact(t, out, false)
		got, gotLosses := runOutputs(t, out)
		assert.Equal(t, want, got, what)
		assert.Equal(t, wantLosses, gotLosses, what)
	}

	// kill -9 at fault events chosen at random among the run's (after a
	// step, inside a checkpoint write, after best/ or epoch-N/ is
	// replaced), twice per seed; the last seed's second kill comes at a
	// random time instead.
	t.Run("kill", func(t *testing.T) {
		seeds := []uint64{1, 2, 3}
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

	// SIGTERM (what timeout, Docker, Kubernetes and Slurm send), then
	// SIGINT in the resumed run: each stops training after the step in
	// progress with a checkpoint, a message naming the signal and the
	// checkpoint, and a non-zero exit.
	t.Run("signals", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		for i, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			step := 3 + 2*i
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

	// A full disk: the disk fills at a chosen point of the run (every
	// write of more than a byte fails from then on; RLIMIT_FSIZE), so
	// that the next write fails: in turn the run manifest, a checkpoint's
	// model and optimizer state, a step's metrics line, best/, epoch-N/,
	// the epoch's metrics line and the test reports. Each attempt resumes the
	// run the previous one left; each must fail with an error naming the
	// file and leave nothing half-written.
	t.Run("full-disk", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "run")
		cases := []struct{ at, write string }{
			{"", "run.json"},
			{"checkpoint-start#1", "model.safetensors"},
			{"checkpoint-files#1", "optimizer.safetensors"},
			{"checkpoint#1", MetricsFileName},
			{"evaluated#1", "best"},
			{"model-dir#1", "epoch-1"},
			{"model-dir#2", MetricsFileName},
			{"trained#1", "test_"},
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
			t.Logf("disk full at %q: %s", tc.at, firstLine(res.Stderr))
			faults.CheckIntact(t, out, false)
		}
		finish(t, out, "full disk")
	})
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
