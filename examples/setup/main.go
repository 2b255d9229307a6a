// Command setup prepares libtorch for building this project (or any module
// that imports it): it finds libtorch, prepares a patched copy of gotch for
// it in a per-machine cache (compiling its C++ wrappers once), fills the
// module's .biobertpt/gotch with it, requires and replaces gotch in the
// module's go.mod, compiles the cgo packages and prints a summary.
// Re-running it when nothing changed takes seconds.
//
//	go run ./examples/setup                 # in this repository (make setup)
//	go run github.com/biobertpt-go/biobertpt/examples/setup -module .   # in your module
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/torchsetup"
)

func main() {
	module := flag.String("module", ".", "directory of the Go module to build against the patched gotch (its go.mod gets the gotch requirement and replace; .biobertpt/gotch is filled)")
	cache := flag.String("cache", torchsetup.DefaultCacheDir(), "directory for the patched gotch copies ($BIOBERTPT_TORCH_CACHE)")
	noApt := flag.Bool("no-apt", false, "never run apt-get install")
	noBuild := flag.Bool("no-build", false, "skip compiling the C++ wrappers and the device probe")
	flag.Parse()
	t0 := time.Now()
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "setup: "+format+"\n", a...) }
	if err := runSetup(*module, *cache, !*noApt, !*noBuild, logf); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
	logf("done in %s", time.Since(t0).Round(100*time.Millisecond))
}

func runSetup(module, cache string, apt, build bool, logf func(string, ...any)) error {
	in, err := torchsetup.Detect(torchsetup.DetectOptions{AptInstall: apt, Log: logf})
	if err != nil {
		return err
	}
	if apt {
		torchsetup.EnsureOpenBLAS(in, logf)
	}
	res, err := torchsetup.Prepare(in, torchsetup.PrepareOptions{CacheDir: cache, AptInstall: apt, Log: logf})
	if err != nil {
		return err
	}
	if err := torchsetup.PointModule(module, res.Dir); err != nil {
		return err
	}
	probe := "(skipped: -no-build)"
	if build {
		t := time.Now()
		logf("compiling the cgo packages of gotch, bbshim and bbdist ...")
		if err := torchsetup.CompileOnce(module); err != nil {
			return err
		}
		logf("compiled in %s; probing devices ...", time.Since(t).Round(time.Second))
		if probe, err = torchsetup.Probe(module); err != nil {
			return err
		}
	}
	kind := "CPU"
	if in.CUDA {
		kind = "CUDA"
	}
	reused := "prepared now"
	switch {
	case res.Reused:
		reused = "reused (nothing changed)"
	case res.ShimInstalled && res.DistInstalled:
		reused = "reused; bbshim and bbdist packages re-installed"
	case res.ShimInstalled:
		reused = "reused; bbshim package re-installed"
	case res.DistInstalled:
		reused = "reused; bbdist package re-installed"
	}
	fmt.Printf("libtorch     %s (%s, %s build, _GLIBCXX_USE_CXX11_ABI=%d)\n", in.Version, in.Source, kind, in.CXX11ABI)
	fmt.Printf("  headers    %s\n", strings.Join(in.IncludeDir, " "))
	fmt.Printf("  libraries  %s\n", in.LibDir)
	fmt.Printf("gotch        %s patched copy %s: %s\n", torchsetup.GotchVersion, res.Dir, reused)
	fmt.Printf("  disabled   %d wrappers that do not compile against libtorch %s (list: %s/libtch/STUBBED.txt)\n", len(res.State.Stubbed), in.MajorMinor(), res.Dir)
	fmt.Printf("go.mod       %s/go.mod replaces %s with ./%s\n", module, torchsetup.GotchModule, torchsetup.LocalDir)
	fmt.Printf("distributed  %s\n", res.State.Dist.Summary())
	fmt.Printf("devices      %s\n", strings.Join(strings.Fields(probe), " "))
	return nil
}
