package dist

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbdist"
	"github.com/sugarme/gotch/ts"
)

func needGloo(t *testing.T) {
	t.Helper()
	if !bbdist.HasGloo() {
		t.Skipf("this build has no Gloo backend: %s", bbdist.BuildNote())
	}
}

// launchScenario runs a scenario as world ranks through Launch and returns
// their prefixed output.
func launchScenario(t *testing.T, sc string, world int, extraEnv ...string) (string, error) {
	t.Helper()
	var out syncBuffer
	o := DefaultLaunchOptions()
	o.NProc = world
	o.Command = []string{os.Args[0], "-test.run=^$"}
	o.Env = append(append(os.Environ(), childVar+"="+sc, "DIST_TEST_DIR="+t.TempDir()), extraEnv...)
	o.Stdout, o.Stderr = &out, &out
	o.KillGrace = 2 * time.Second
	o.Signals = make(chan os.Signal) // never: signals to the test binary are not forwarded
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := Launch(ctx, o)
	return out.String(), err
}

func TestCollectivesTwoRanks(t *testing.T) {
	needGloo(t)
	out, err := launchScenario(t, "collectives", 2)
	require.NoError(t, err, out)
	assert.Contains(t, out, "[rank 0] ok rank 0")
	assert.Contains(t, out, "[rank 1] ok rank 1")
}

func TestReducerAveragesTwoRanks(t *testing.T) {
	needGloo(t)
	out, err := launchScenario(t, "reducer", 2)
	require.NoError(t, err, out)
	assert.Contains(t, out, "[rank 0] ok rank 0")
	assert.Contains(t, out, "[rank 1] ok rank 1")
}

func TestBroadcastRefusesDifferentModels(t *testing.T) {
	needGloo(t)
	out, err := launchScenario(t, "mismatch", 2)
	require.NoError(t, err, out)
	assert.Contains(t, out, "[rank 0] ok rank 0")
	assert.Contains(t, out, "[rank 1] ok rank 1")
}

// rank is one child process started directly (not through Launch, which
// would stop the survivor itself).
type rank struct {
	cmd    *exec.Cmd
	stderr syncBuffer
	ready  chan struct{}
	done   chan error
}

func startRank(t *testing.T, sc string, r, world, port int, timeout string) *rank {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = childEnv(sc, r, world, port, "DIST_TEST_TIMEOUT="+timeout)
	k := &rank{cmd: cmd, ready: make(chan struct{}), done: make(chan error, 1)}
	cmd.Stderr = &k.stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			if sc.Text() == "ready" {
				once.Do(func() { close(k.ready) })
			}
		}
		k.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return k
}

func waitReady(t *testing.T, ks ...*rank) {
	t.Helper()
	for i, k := range ks {
		select {
		case <-k.ready:
		case err := <-k.done:
			t.Fatalf("rank %d exited before it was ready: %v\n%s", i, err, k.stderr.String())
		case <-time.After(60 * time.Second):
			t.Fatalf("rank %d not ready after 60s\n%s", i, k.stderr.String())
		}
	}
}

// exitWithin waits at most d for k to exit and returns its status.
func exitWithin(t *testing.T, k *rank, d time.Duration) int {
	t.Helper()
	select {
	case err := <-k.done:
		var ee *exec.ExitError
		if err == nil {
			return 0
		}
		require.True(t, errors.As(err, &ee), "%v", err)
		return ee.ExitCode()
	case <-time.After(d):
		t.Fatalf("still running after %s\n%s", d, k.stderr.String())
		return -1
	}
}

func TestKilledRankFailsSurvivor(t *testing.T) {
	needGloo(t)
	port, err := FreePort("127.0.0.1")
	require.NoError(t, err)
	// The timeout is long: a dead peer must be noticed without it.
	r0 := startRank(t, "loop", 0, 2, port, "60s")
	r1 := startRank(t, "loop", 1, 2, port, "60s")
	waitReady(t, r0, r1)
	t0 := time.Now()
	require.NoError(t, r1.cmd.Process.Kill())
	code := exitWithin(t, r0, 30*time.Second)
	assert.Equal(t, 5, code, r0.stderr.String())
	assert.Less(t, time.Since(t0), 30*time.Second)
	msg := r0.stderr.String()
	t.Logf("rank 0 after %s: %s", time.Since(t0).Round(time.Millisecond), msg)
	assert.Contains(t, msg, "dist: all-reduce: rank 0 of 2 (gloo")
	assert.Contains(t, msg, "a peer process exited")
}

func TestStalledRankTimesOut(t *testing.T) {
	needGloo(t)
	port, err := FreePort("127.0.0.1")
	require.NoError(t, err)
	// The timeout also bounds the rendezvous: it leaves room for the two
	// processes starting a few seconds apart on a busy machine.
	r0 := startRank(t, "stall", 0, 2, port, "6s")
	r1 := startRank(t, "stall", 1, 2, port, "6s")
	waitReady(t, r0, r1)
	t0 := time.Now()
	code := exitWithin(t, r0, 60*time.Second)
	took := time.Since(t0)
	assert.Equal(t, 5, code, r0.stderr.String())
	assert.GreaterOrEqual(t, took, 5*time.Second, "rank 0 gave up before the 6s timeout")
	msg := r0.stderr.String()
	t.Logf("rank 0 after %s: %s", took.Round(time.Millisecond), msg)
	assert.Contains(t, msg, "dist: all-reduce: rank 0 of 2 (gloo, timeout 6s)")
	assert.Regexp(t, `(?i)time[d ]*out`, msg)
}

func TestRendezvousTimesOutWithoutPeers(t *testing.T) {
	needGloo(t)
	port, err := FreePort("127.0.0.1")
	require.NoError(t, err)
	o := DefaultOptions()
	o.Timeout = 1500 * time.Millisecond
	t0 := time.Now()
	g, err := Init(Env{Rank: 0, WorldSize: 2, MasterAddr: "127.0.0.1", MasterPort: port, Source: "torchrun"}, o)
	if g != nil {
		g.Close()
	}
	require.Error(t, err)
	assert.Less(t, time.Since(t0), 30*time.Second)
	assert.Contains(t, err.Error(), "dist: init rank 0 of 2")
	assert.Contains(t, err.Error(), "gloo process group (rank 0 of 2, waiting for every rank to connect)")
	t.Log(err)
}

func TestSingleProcessIsNoOp(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	g, err := Init(Single(), DefaultOptions())
	require.NoError(t, err)
	defer g.Close()
	assert.Equal(t, "", g.Backend())
	assert.True(t, g.IsMain())
	assert.Equal(t, gotch.CPU, g.Device())
	require.NoError(t, g.Barrier())
	x := ts.MustOfSlice([]float32{1, 2})
	require.NoError(t, g.AllReduceSum([]*ts.Tensor{x}))
	require.NoError(t, g.Broadcast([]*ts.Tensor{x}))
	assert.Equal(t, []float64{1, 2}, x.Float64Values())
	gi, err := g.AllGatherInt64([]int64{4, 5})
	require.NoError(t, err)
	assert.Equal(t, [][]int64{{4, 5}}, gi)
	s, err := g.SumFloat64([]float64{0.5})
	require.NoError(t, err)
	assert.Equal(t, []float64{0.5}, s)
	red, err := g.NewReducer([]*ts.Tensor{x}, DefaultReducerOptions())
	require.NoError(t, err)
	assert.Nil(t, red.Buckets())
	assert.Zero(t, red.Bytes())
	require.NoError(t, red.Sync())
	ran := false
	require.NoError(t, g.MainFirst(func() error { ran = true; return nil }))
	assert.True(t, ran)
	var buf bytes.Buffer
	assert.Equal(t, &buf, g.MainWriter(&buf))
}

// A one-rank Gloo group (Options.Always) runs the real collectives: the
// reducer's mean over one rank is the gradient itself.
func TestSingleRankGlooGroup(t *testing.T) {
	needGloo(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := DefaultOptions()
	o.Always = true
	o.Timeout = 20 * time.Second
	g, err := Init(Single(), o)
	require.NoError(t, err)
	defer g.Close()
	assert.Equal(t, "gloo", g.Backend())
	p := reducerParams()
	reducerLoss(p, 0).MustBackward()
	want := p[0].MustGrad(false).Float64Values()
	red, err := g.NewReducer(p, DefaultReducerOptions())
	require.NoError(t, err)
	defer red.Close()
	assert.Equal(t, []Bucket{{Bytes: 26*4 + 4*8, Params: 5}}, mergeBuckets(red.Buckets()))
	require.NoError(t, red.Sync())
	assert.InDeltaSlice(t, want, p[0].MustGrad(false).Float64Values(), 1e-7)
	// p[3] had a gradient from rank 0's loss; all defined afterwards.
	for i, x := range p {
		assert.True(t, x.MustGrad(false).MustDefined(), "param %d", i)
	}
	gi, err := g.AllGatherInt64([]int64{7})
	require.NoError(t, err)
	assert.Equal(t, [][]int64{{7}}, gi)
	require.NoError(t, g.Barrier())
}

// mergeBuckets sums the buckets of the two dtypes into one line.
func mergeBuckets(bs []Bucket) []Bucket {
	var s Bucket
	for _, b := range bs {
		s.Bytes += b.Bytes
		s.Params += b.Params
	}
	return []Bucket{s}
}

func TestMissingBackendIsAClearError(t *testing.T) {
	if bbdist.HasNCCL() {
		t.Skip("this build has NCCL")
	}
	o := DefaultOptions()
	o.Backend = "nccl"
	o.Device = gotch.Device{Name: "CUDA", Value: 0}
	o.Always = true
	_, err := Init(Single(), o)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrUnavailable), "%v", err)
	assert.Contains(t, err.Error(), "needs the nccl backend")
	assert.Contains(t, err.Error(), "WORLD_SIZE=1")
}

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"defaults", func(*Options) {}, ""},
		{"backend", func(o *Options) { o.Backend = "mpi" }, "Backend \"mpi\""},
		{"timeout", func(o *Options) { o.Timeout = 0 }, "Timeout 0s must be positive"},
		{"nccl on cpu", func(o *Options) { o.Backend = "nccl" }, "Backend nccl needs a CUDA Device"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			tc.edit(&o)
			err := o.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.ErrorContains(t, ReducerOptions{FirstBucketBytes: 1}.Validate(), "BucketBytes 0")
	assert.ErrorContains(t, ReducerOptions{BucketBytes: 1}.Validate(), "FirstBucketBytes 0")
}

func TestGlooDevice(t *testing.T) {
	cases := []struct{ addr, ifname, iface, host string }{
		{"127.0.0.1", "", "", "127.0.0.1"},
		{"localhost", "", "", "127.0.0.1"},
		{"::1", "", "", "::1"},
		{"10.0.0.5", "", "", ""},
		{"node01", "", "", ""},
		{"127.0.0.1", "eth0,eth1", "eth0,eth1", ""},
	}
	for _, c := range cases {
		iface, host := glooDevice(c.addr, c.ifname)
		assert.Equal(t, c.iface, iface, c.addr)
		assert.Equal(t, c.host, host, c.addr)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Contains(sub string) bool { return strings.Contains(s.String(), sub) }

// TestNCCLOneRank runs the NCCL path on a GPU machine (one rank: NCCL
// refuses two ranks on one GPU): collectives and the reducer on CUDA
// tensors.
func TestNCCLOneRank(t *testing.T) {
	if !gotch.CUDA.IsAvailable() {
		t.Skip("no CUDA device")
	}
	if !bbdist.HasNCCL() {
		t.Skipf("this build has no NCCL backend: %s", bbdist.BuildNote())
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	dev := gotch.Device{Name: "CUDA", Value: 0}
	o := DefaultOptions()
	o.Always, o.Device, o.Timeout = true, dev, time.Minute
	g, err := Init(Single(), o)
	require.NoError(t, err)
	defer g.Close()
	assert.Equal(t, "nccl", g.Backend())
	assert.Equal(t, dev, g.Device())
	x := ts.MustOfSlice([]float32{1, 2}).MustTo(dev, true)
	require.NoError(t, g.AllReduceSum([]*ts.Tensor{x}))
	require.NoError(t, g.Broadcast([]*ts.Tensor{x}))
	assert.Equal(t, []float64{1, 2}, x.Float64Values())
	gi, err := g.AllGatherInt64([]int64{3, 4})
	require.NoError(t, err)
	assert.Equal(t, [][]int64{{3, 4}}, gi)
	require.NoError(t, g.Barrier())
	p := ts.MustOfSlice([]float32{0.5, -1, 2}).MustTo(dev, true).MustSetRequiresGrad(true, true)
	p.MustMul(p, false).MustSum(gotch.Float, true).MustBackward()
	red, err := g.NewReducer([]*ts.Tensor{p}, DefaultReducerOptions())
	require.NoError(t, err)
	defer red.Close()
	require.NoError(t, red.Sync())
	assert.InDeltaSlice(t, []float64{1, -2, 4}, p.MustGrad(false).Float64Values(), 1e-6)
	// A CPU tensor in an NCCL group is refused with a clear error.
	err = g.AllReduceSum([]*ts.Tensor{ts.MustOfSlice([]float32{1})})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the NCCL group works on cuda:0")
}
