package dist

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
)

// The multi-process tests re-run this test binary as the ranks: with
// DIST_TEST_CHILD set, TestMain runs that scenario instead of the tests
// and exits with its status.
const childVar = "DIST_TEST_CHILD"

func TestMain(m *testing.M) {
	if sc := os.Getenv(childVar); sc != "" {
		runtime.LockOSThread()
		os.Exit(runChild(sc))
	}
	os.Exit(m.Run())
}

// childTimeout is DIST_TEST_TIMEOUT (a duration), else 30s.
func childTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("DIST_TEST_TIMEOUT")); err == nil {
		return d
	}
	return 30 * time.Second
}

// runChild runs one rank of a scenario; 0 = the checks passed, 5 = a
// collective failed (the fault scenarios expect it), other = a bug.
func runChild(sc string) int {
	switch sc {
	case "echo":
		fmt.Printf("env RANK=%s WORLD_SIZE=%s LOCAL_RANK=%s MASTER_ADDR=%s MASTER_PORT=%s OMP_NUM_THREADS=%s\n",
			os.Getenv("RANK"), os.Getenv("WORLD_SIZE"), os.Getenv("LOCAL_RANK"), os.Getenv("MASTER_ADDR"), os.Getenv("MASTER_PORT"), os.Getenv("OMP_NUM_THREADS"))
		fmt.Fprintf(os.Stderr, "to stderr from %s\n", os.Getenv("RANK"))
		fmt.Print("progress 1\rprogress 2\rdone\n")
		fmt.Print("no newline at the end")
		return 0
	case "fail":
		if os.Getenv("RANK") == "1" {
			time.Sleep(200 * time.Millisecond)
			fmt.Fprintln(os.Stderr, "rank 1 fails")
			return 3
		}
		time.Sleep(time.Minute)
		return 0
	case "trap", "stubborn":
		ch := make(chan os.Signal, 1)
		if sc == "trap" {
			signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		} else {
			signal.Ignore(os.Interrupt, syscall.SIGTERM)
		}
		fmt.Println("ready")
		select {
		case s := <-ch:
			fmt.Printf("got %s\n", s)
			return 0
		case <-time.After(time.Minute):
			return 4
		}
	}
	env, err := EnvFromOS()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	o := DefaultOptions()
	o.Timeout = childTimeout()
	g, err := Init(env, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 5
	}
	defer g.Close()
	var check error
	switch sc {
	case "collectives":
		check = childCollectives(g)
	case "reducer":
		check = childReducer(g)
	case "mismatch":
		extra := 0
		if g.Rank() == 1 {
			extra = 1
		}
		list := make([]*ts.Tensor, 2+extra)
		for i := range list {
			list[i] = ts.MustOfSlice([]float32{1, 2})
		}
		err := g.Broadcast(list)
		if err == nil || !strings.Contains(err.Error(), "every rank must build the same model") {
			check = fmt.Errorf("want a shape mismatch error, got %v", err)
		}
	case "loop", "stall":
		if err := g.Barrier(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 5
		}
		fmt.Println("ready")
		if sc == "stall" && g.Rank() == 1 {
			time.Sleep(time.Minute)
			return 0
		}
		x := ts.MustOfSlice([]float32{1})
		for i := 0; i < 2000; i++ {
			if err := g.AllReduceSum([]*ts.Tensor{x}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				if err := g.Barrier(); err == nil || !strings.Contains(err.Error(), "unusable after an earlier error") {
					fmt.Fprintln(os.Stderr, "a broken group must refuse later calls at once, got", err)
					return 6
				}
				return 5
			}
			time.Sleep(20 * time.Millisecond)
		}
		return 0
	case "bench-peer":
		params, err := benchParams(os.Getenv("DIST_BENCH_CONFIG"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		red, err := g.NewReducer(params, DefaultReducerOptions())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer red.Close()
		for red.Sync() == nil {
		}
		return 0 // rank 0 left: the benchmark is over
	default:
		fmt.Fprintln(os.Stderr, "unknown scenario", sc)
		return 2
	}
	if check != nil {
		fmt.Fprintf(os.Stderr, "rank %d: %v\n", g.Rank(), check)
		return 1
	}
	fmt.Printf("ok rank %d\n", g.Rank())
	return 0
}

func childCollectives(g *Group) error {
	r := g.Rank()
	if g.WorldSize() != 2 || g.Backend() != "gloo" {
		return fmt.Errorf("world %d backend %q", g.WorldSize(), g.Backend())
	}
	// all-reduce: (1+2) everywhere, two tensors at once
	a := ts.MustOfSlice([]float32{float32(r + 1), float32(r + 1), float32(r + 1), float32(r + 1)})
	b := ts.MustOfSlice([]float64{float64(10 * r), 0.5})
	if err := g.AllReduceSum([]*ts.Tensor{a, b}); err != nil {
		return err
	}
	if got := a.Float64Values(); fmt.Sprint(got) != "[3 3 3 3]" {
		return fmt.Errorf("all-reduce a = %v", got)
	}
	if got := b.Float64Values(); fmt.Sprint(got) != "[10 1]" {
		return fmt.Errorf("all-reduce b = %v", got)
	}
	// broadcast from rank 0: parameters that require grad, in small buckets
	w := ts.MustOfSlice([]float32{float32(r + 5), float32(r + 6), float32(r + 7)}).MustView([]int64{3, 1}, true).MustSetRequiresGrad(true, true)
	n := ts.MustOfSlice([]int64{int64(100 * r), 7})
	if err := g.Broadcast([]*ts.Tensor{w, n}); err != nil {
		return err
	}
	if got := w.Float64Values(); fmt.Sprint(got) != "[5 6 7]" {
		return fmt.Errorf("broadcast w = %v", got)
	}
	if got := n.Int64Values(); fmt.Sprint(got) != "[0 7]" {
		return fmt.Errorf("broadcast n = %v", got)
	}
	// all-gather of different lengths, and sums
	ints := []int64{int64(r)}
	if r == 1 {
		ints = []int64{1, 11, 111}
	}
	gi, err := g.AllGatherInt64(ints)
	if err != nil {
		return err
	}
	if fmt.Sprint(gi) != "[[0] [1 11 111]]" {
		return fmt.Errorf("all-gather ints = %v", gi)
	}
	gf, err := g.AllGatherFloat64([]float64{float64(r) + 0.25})
	if err != nil {
		return err
	}
	if fmt.Sprint(gf) != "[[0.25] [1.25]]" {
		return fmt.Errorf("all-gather floats = %v", gf)
	}
	s, err := g.SumInt64([]int64{int64(r + 1), 2})
	if err != nil {
		return err
	}
	if fmt.Sprint(s) != "[3 4]" {
		return fmt.Errorf("sum = %v", s)
	}
	if _, err := g.SumInt64(ints); err == nil {
		return errors.New("sum of different lengths: want an error")
	}
	// main-first: rank 0 writes, the others read after it
	path := os.Getenv("DIST_TEST_DIR") + "/main-first.txt"
	var read string
	if err := g.MainFirst(func() error {
		if g.IsMain() {
			return os.WriteFile(path, []byte("built by rank 0"), 0o644)
		}
		b, err := os.ReadFile(path)
		read = string(b)
		return err
	}); err != nil {
		return err
	}
	if r == 1 && read != "built by rank 0" {
		return fmt.Errorf("main-first: rank 1 read %q", read)
	}
	return g.Barrier()
}

// reducerParams are a few parameters of different shapes and dtypes (the
// same values on every rank): w1 (3×4), b1 (4), w2 (4×2), u (unused on
// rank 1), h (float64).
func reducerParams() []*ts.Tensor {
	r := rand.New(rand.NewPCG(1, 2))
	mk := func(shape []int64, dt gotch.DType) *ts.Tensor {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		v := make([]float64, n)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		return ts.MustOfSlice(v).MustTotype(dt, true).MustView(shape, true).MustSetRequiresGrad(true, true)
	}
	return []*ts.Tensor{mk([]int64{3, 4}, gotch.Float), mk([]int64{4}, gotch.Float), mk([]int64{4, 2}, gotch.Float), mk([]int64{2}, gotch.Float), mk([]int64{2, 2}, gotch.Double)}
}

// reducerLoss is rank's loss on its own data: tanh(x·w1 + b1)·w2 summed,
// plus u·x0 on rank 0 only, plus h's squares scaled by the rank.
func reducerLoss(p []*ts.Tensor, rank int) *ts.Tensor {
	x := ts.MustOfSlice([]float32{float32(rank) + 0.5, -1, float32(2 * rank), 0.25, 1, float32(rank) - 2}).MustView([]int64{2, 3}, true)
	h := x.MustMatmul(p[0], false).MustAdd(p[1], true).MustTanh(true).MustMatmul(p[2], true).MustSum(gotch.Float, true)
	if rank == 0 {
		h = h.MustAdd(p[3].MustMul(ts.MustOfSlice([]float32{0.5, -2}), false).MustSum(gotch.Float, true), true)
	}
	hh := p[4].MustMul(p[4], false).MustSum(gotch.Double, true).MustMulScalar(ts.FloatScalar(float64(rank+1)), true).MustTotype(gotch.Float, true)
	return h.MustAdd(hh, true)
}

// childReducer checks that Sync leaves on every rank the mean of every
// rank's gradients, computed here locally from every rank's loss, with
// tiny buckets so that the parameters spread over several.
func childReducer(g *Group) error {
	expect := map[int][]float64{}
	for r := 0; r < g.WorldSize(); r++ {
		p := reducerParams()
		reducerLoss(p, r).MustBackward()
		for i, t := range p {
			gr := t.MustGrad(false)
			if !gr.MustDefined() {
				continue // u on rank 1: zeros
			}
			v := gr.Float64Values()
			if expect[i] == nil {
				expect[i] = make([]float64, len(v))
			}
			for k := range v {
				expect[i][k] += v[k] / float64(g.WorldSize())
			}
		}
	}
	p := reducerParams()
	if err := g.Broadcast(p); err != nil {
		return err
	}
	red, err := g.NewReducer(p, ReducerOptions{FirstBucketBytes: 40, BucketBytes: 64})
	if err != nil {
		return err
	}
	defer red.Close()
	if n := len(red.Buckets()); n < 3 {
		return fmt.Errorf("%d buckets, want at least 3 with 64-byte buckets", n)
	}
	if want := int64((12+4+8+2)*4 + 4*8); red.Bytes() != want {
		return fmt.Errorf("reducer bytes %d, want %d", red.Bytes(), want)
	}
	reducerLoss(p, g.Rank()).MustBackward()
	if err := red.Sync(); err != nil {
		return err
	}
	for i, t := range p {
		gr := t.MustGrad(false)
		if !gr.MustDefined() {
			return fmt.Errorf("param %d: gradient undefined after Sync", i)
		}
		got := gr.Float64Values()
		for k := range got {
			if d := got[k] - expect[i][k]; d > 1e-6 || d < -1e-6 {
				return fmt.Errorf("param %d grad[%d] = %v, want the mean %v", i, k, got[k], expect[i][k])
			}
		}
	}
	// A second step accumulates into the same gradients and syncs again.
	reducerLoss(p, g.Rank()).MustBackward()
	if err := red.Sync(); err != nil {
		return err
	}
	got := p[0].MustGrad(false).Float64Values()
	for k := range got {
		if d := got[k] - 2*expect[0][k]; d > 1e-5 || d < -1e-5 {
			return fmt.Errorf("after two steps grad[%d] = %v, want %v", k, got[k], 2*expect[0][k])
		}
	}
	return nil
}

// benchParams are the trainable parameters of a BERT masked-LM of config
// "tiny" (bert.TinyConfig) or "small" (examples/internal/bench.SmallConfig:
// BERT-Small's encoder with mBERT's vocabulary).
func benchParams(name string) ([]*ts.Tensor, error) {
	var c *bert.Config
	switch name {
	case "tiny":
		c = bert.TinyConfig()
	case "small":
		c = bert.DefaultConfig()
		c.VocabSize = 119547
		c.HiddenSize = 512
		c.NumHiddenLayers = 4
		c.NumAttentionHeads = 8
		c.IntermediateSize = 2048
	default:
		return nil, fmt.Errorf("config %q", name)
	}
	m, err := bert.NewForMaskedLM(c, gotch.CPU)
	if err != nil {
		return nil, err
	}
	var out []*ts.Tensor
	for _, p := range m.Parameters() {
		out = append(out, p.Tensor)
	}
	return out, nil
}

// childEnv is the environment of rank of world for a scenario.
func childEnv(sc string, rank, world, port int, extra ...string) []string {
	env := append(os.Environ(), childVar+"="+sc, "RANK="+strconv.Itoa(rank), "WORLD_SIZE="+strconv.Itoa(world),
		"LOCAL_RANK="+strconv.Itoa(rank), "MASTER_ADDR=127.0.0.1", "MASTER_PORT="+strconv.Itoa(port), "OMP_NUM_THREADS=1")
	return append(env, extra...)
}
