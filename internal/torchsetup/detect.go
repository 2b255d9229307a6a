package torchsetup

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Install describes one libtorch installation found on this machine.
type Install struct {
	Source     string   // "LIBTORCH", "python" or "debian"
	Root       string   // $LIBTORCH, the python torch package dir, or /usr
	IncludeDir []string // -I dirs: include/ and include/torch/csrc/api/include
	LibDir     string   // directory holding libtorch.so
	Version    string   // e.g. "1.13.0" or "2.11.0"
	CXX11ABI   int      // value for -D_GLIBCXX_USE_CXX11_ABI
	CUDA       bool     // libtorch_cuda.so present
}

// Key identifies the install for the patched-copy cache: a change of any
// field means the copy must be prepared again.
func (in Install) Key() string {
	cuda := "cpu"
	if in.CUDA {
		cuda = "cuda"
	}
	return fmt.Sprintf("%s|%s|%s|%s|abi%d|%s", in.Source, in.LibDir, strings.Join(in.IncludeDir, ":"), in.Version, in.CXX11ABI, cuda)
}

// MajorMinor returns "X.Y" of the version.
func (in Install) MajorMinor() string {
	p := strings.SplitN(in.Version, ".", 3)
	if len(p) < 2 {
		return in.Version
	}
	return p[0] + "." + p[1]
}

// DetectOptions configures Detect.
type DetectOptions struct {
	// AptInstall allows installing Debian's libtorch-dev with apt-get when no
	// libtorch is found and the process runs as root.
	AptInstall bool
	// Log receives progress lines; nil discards them.
	Log func(format string, a ...any)
}

// Detect finds libtorch: $LIBTORCH, else a Python torch install that ships
// its headers and libraries, else Debian's libtorch-dev (installed with
// apt-get when missing, permitted and running as root).
func Detect(o DetectOptions) (Install, error) {
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if root := os.Getenv("LIBTORCH"); root != "" {
		in, err := fromRoot("LIBTORCH", root)
		if err != nil {
			return Install{}, fmt.Errorf("torchsetup: $LIBTORCH=%s: %w", root, err)
		}
		return in, nil
	}
	if in, ok := fromPython(logf); ok {
		return in, nil
	}
	if in, err := fromDebian(); err == nil {
		return in, nil
	}
	if !o.AptInstall {
		return Install{}, errors.New("torchsetup: no libtorch found: set $LIBTORCH, install Python torch, or apt-get install libtorch-dev")
	}
	if os.Geteuid() != 0 {
		return Install{}, errors.New("torchsetup: no libtorch found and not root: run 'sudo apt-get install -y libtorch-dev libopenblas0-pthread' or set $LIBTORCH")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return Install{}, errors.New("torchsetup: no libtorch found and no apt-get: set $LIBTORCH to an unpacked libtorch")
	}
	logf("installing Debian libtorch-dev and OpenBLAS with apt-get (about a minute) ...")
	if err := aptInstall(logf, "libtorch-dev", "libopenblas0-pthread"); err != nil {
		return Install{}, err
	}
	in, err := fromDebian()
	if err != nil {
		return Install{}, fmt.Errorf("torchsetup: after apt-get install: %w", err)
	}
	return in, nil
}

// EnsureOpenBLAS installs Debian's pthread OpenBLAS next to a Debian libtorch
// when missing (6x faster CPU matmuls than the reference BLAS). Best effort.
func EnsureOpenBLAS(in Install, logf func(string, ...any)) {
	if in.Source != "debian" || os.Geteuid() != 0 {
		return
	}
	if m, _ := filepath.Glob("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"); len(m) > 0 {
		return
	}
	if m, _ := filepath.Glob("/usr/lib/*/openblas-pthread/libblas.so.3"); len(m) > 0 {
		return
	}
	logf("installing libopenblas0-pthread (faster CPU matmuls) ...")
	if err := aptInstall(logf, "libopenblas0-pthread"); err != nil {
		logf("warning: %v (CPU training will be slower)", err)
	}
}

func aptInstall(logf func(string, ...any), pkgs ...string) error {
	run := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		return cmd.CombinedOutput()
	}
	args := append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)
	if _, err := run(args...); err == nil {
		return nil
	}
	logf("apt-get install failed; running apt-get update first ...")
	if out, err := run("update"); err != nil {
		return fmt.Errorf("torchsetup: apt-get update: %w\n%s", err, tail(out, 2000))
	}
	if out, err := run(args...); err != nil {
		return fmt.Errorf("torchsetup: apt-get install %s: %w\n%s", strings.Join(pkgs, " "), err, tail(out, 2000))
	}
	return nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// fromRoot reads an unpacked libtorch (or a Python torch package dir):
// ROOT/include, ROOT/lib.
func fromRoot(source, root string) (Install, error) {
	root = filepath.Clean(root)
	in := Install{
		Source:     source,
		Root:       root,
		IncludeDir: []string{filepath.Join(root, "include"), filepath.Join(root, "include", "torch", "csrc", "api", "include")},
		LibDir:     filepath.Join(root, "lib"),
	}
	return finish(in)
}

func fromDebian() (Install, error) {
	for _, lib := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"} {
		if _, err := os.Stat(filepath.Join(lib, "libtorch.so")); err == nil {
			in := Install{
				Source:     "debian",
				Root:       "/usr",
				IncludeDir: []string{"/usr/include", "/usr/include/torch/csrc/api/include"},
				LibDir:     lib,
			}
			return finish(in)
		}
	}
	return Install{}, errors.New("torchsetup: Debian libtorch-dev not installed")
}

func fromPython(logf func(string, ...any)) (Install, bool) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return Install{}, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c",
		"import os, torch; print(os.path.dirname(torch.__file__)); print(torch.__version__); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))").Output()
	if err != nil {
		return Install{}, false
	}
	lines := strings.Fields(string(out))
	if len(lines) < 3 {
		return Install{}, false
	}
	in, err := fromRoot("python", lines[0])
	if err != nil {
		logf("python torch at %s has no C++ headers/libraries (%v); looking further", lines[0], err)
		return Install{}, false
	}
	if abi, err := strconv.Atoi(lines[2]); err == nil {
		in.CXX11ABI = abi
	}
	return in, true
}

var versionRe = regexp.MustCompile(`#define\s+TORCH_VERSION_(MAJOR|MINOR|PATCH)\s+(\d+)`)

// finish validates the directories and fills in version, ABI and CUDA.
func finish(in Install) (Install, error) {
	if _, err := os.Stat(filepath.Join(in.LibDir, "libtorch.so")); err != nil {
		return Install{}, fmt.Errorf("no libtorch.so in %s", in.LibDir)
	}
	var verFile string
	for _, d := range in.IncludeDir {
		f := filepath.Join(d, "torch", "version.h")
		if _, err := os.Stat(f); err == nil {
			verFile = f
			break
		}
	}
	if verFile == "" {
		return Install{}, fmt.Errorf("no torch/version.h under %s", strings.Join(in.IncludeDir, ", "))
	}
	b, err := os.ReadFile(verFile)
	if err != nil {
		return Install{}, err
	}
	parts := map[string]string{}
	for _, m := range versionRe.FindAllStringSubmatch(string(b), -1) {
		parts[m[1]] = m[2]
	}
	if parts["MAJOR"] == "" || parts["MINOR"] == "" {
		return Install{}, fmt.Errorf("%s: no TORCH_VERSION_MAJOR/MINOR", verFile)
	}
	in.Version = parts["MAJOR"] + "." + parts["MINOR"] + "." + parts["PATCH"]
	if in.Source != "python" { // python reported the ABI itself
		in.CXX11ABI = elfABI(filepath.Join(in.LibDir, "libc10.so"))
	}
	if _, err := os.Stat(filepath.Join(in.LibDir, "libtorch_cuda.so")); err == nil {
		in.CUDA = true
	}
	return in, nil
}

// elfABI reports 1 when libc10's exported symbols use the C++11 string ABI.
func elfABI(path string) int {
	f, err := elf.Open(path)
	if err != nil {
		return 1
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		return 1
	}
	for _, s := range syms {
		if strings.Contains(s.Name, "__cxx11") {
			return 1
		}
	}
	return 0
}
