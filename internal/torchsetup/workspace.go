package torchsetup

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// PointModule makes the Go module in moduleDir build against the patched
// copy: it creates moduleDir/go.work when missing ("use ." and the module's
// Go version) and sets its replace of gotch to patched. go.work is kept out
// of version control (it holds an absolute path of this machine).
func PointModule(moduleDir, patched string) error {
	moduleDir, err := filepath.Abs(moduleDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(moduleDir, "go.mod")); err != nil {
		return fmt.Errorf("torchsetup: %s has no go.mod", moduleDir)
	}
	work := filepath.Join(moduleDir, "go.work")
	if _, err := os.Stat(work); os.IsNotExist(err) {
		if err := goCmd(moduleDir, "work", "init", "."); err != nil {
			return err
		}
	}
	return goCmd(moduleDir, "work", "edit", "-replace="+GotchModule+"@"+GotchVersion+"="+patched)
}

// CompileOnce builds gotch's packages and the bbshim and bbdist packages
// in moduleDir's workspace, so that the C++ wrappers (about 70 s on one
// core; the shim a few seconds; bbdist's C++ is already in libbbdist.a)
// are compiled into Go's build cache now rather than during the first
// test.
func CompileOnce(moduleDir string) error {
	return goCmd(moduleDir, "build", GotchModule+"/ts", GotchModule+"/nn", ShimPackage, DistPackage)
}

// Probe runs a small program against the patched gotch that reports the
// devices, checks a tensor op and a stubbed op, and reports what the bbshim
// and bbdist packages have compiled in; it returns its output.
func Probe(moduleDir string) (string, error) {
	dir, err := os.MkdirTemp(moduleDir, ".probe-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	src := `package main

import (
	"fmt"
	"runtime"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbdist"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"
)

func main() {
	runtime.LockOSThread()
	x := ts.MustOnes([]int64{2, 3}, gotch.Float, gotch.CPU)
	y := x.MustMatmul(x.MustT(false), false)
	fmt.Printf("cpu_matmul_ok=%v\n", y.Float64Values()[0] == 3)
	cu := gotch.CUDA
	fmt.Printf("cuda_available=%v\ncuda_devices=%d\n", cu.IsAvailable(), cu.DeviceCount())
	q := ts.MustOnes([]int64{1, 1, 2, 4}, gotch.Float, gotch.CPU)
	_, err := ts.ScaledDotProductAttention(q, q, q, ts.None, 0, false, nil)
	fmt.Printf("sdpa_available=%v\n", err == nil)
	fmt.Printf("bbshim_cuda=%v\nbbshim_fused_adamw=%v\nbbshim_cuda_stats=%v\nbbshim_graphs=%v\n", bbshim.CUDABuild(), bbshim.HasFusedAdamW(), bbshim.HasCUDAStats(), bbshim.HasGraphs())
	fmt.Printf("bbdist_gloo=%v\nbbdist_nccl=%v\n", bbdist.HasGloo(), bbdist.HasNCCL())
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./"+filepath.Base(dir))
	cmd.Dir = moduleDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("torchsetup: probe program failed: %w\n%s", err, tail(out, 3000))
	}
	return string(out), nil
}

func goCmd(dir string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("torchsetup: go %s: %w\n%s", strings.Join(args, " "), err, tail(out, 3000))
	}
	return nil
}
