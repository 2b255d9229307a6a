package dist

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/sugarme/gotch/bbdist"
)

// BenchmarkReducerSync measures one gradient all-reduce (Reducer.Sync with
// DDP's buckets) of a BERT masked-LM's gradient volume: the tiny config
// and the small one (BERT-Small with mBERT's vocabulary), over Gloo on
// 127.0.0.1. ranks=1 is a one-rank Gloo group (Options.Always): the
// buckets' copies in and out without communication; a real one-process
// run skips even those. ranks=2 starts rank 1 as a child process that
// syncs until this rank leaves.
//
//	go test ./internal/dist -run '^$' -bench ReducerSync -benchtime 5x
func BenchmarkReducerSync(b *testing.B) {
	if !bbdist.HasGloo() {
		b.Skipf("no Gloo backend: %s", bbdist.BuildNote())
	}
	for _, cfg := range []string{"tiny", "small"} {
		for _, ranks := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/ranks=%d", cfg, ranks), func(b *testing.B) { benchSync(b, cfg, ranks) })
		}
	}
}

func benchSync(b *testing.B, cfg string, ranks int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	params, err := benchParams(cfg)
	if err != nil {
		b.Fatal(err)
	}
	o := DefaultOptions()
	o.Timeout = 2 * time.Minute
	env := Single()
	var peer *exec.Cmd
	if ranks == 1 {
		o.Always = true
	} else {
		port, err := FreePort("127.0.0.1")
		if err != nil {
			b.Fatal(err)
		}
		env = Env{Rank: 0, WorldSize: 2, MasterAddr: "127.0.0.1", MasterPort: port, Source: "torchrun"}
		peer = exec.Command(os.Args[0], "-test.run=^$")
		peer.Env = childEnv("bench-peer", 1, 2, port, "DIST_BENCH_CONFIG="+cfg, "DIST_TEST_TIMEOUT=2m")
		peer.Stderr = os.Stderr
		if err := peer.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = peer.Wait() }()
	}
	g, err := Init(env, o)
	if err != nil {
		if peer != nil {
			_ = peer.Process.Kill()
		}
		b.Fatal(err)
	}
	defer g.Close()
	red, err := g.NewReducer(params, DefaultReducerOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer red.Close()
	if err := red.Sync(); err != nil { // defines the gradients (zeros)
		b.Fatal(err)
	}
	b.SetBytes(red.Bytes())
	b.ResetTimer()
	for range b.N {
		if err := red.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(red.Bytes())/1e6, "MB/sync")
	b.ReportMetric(float64(len(red.Buckets())), "buckets")
}
