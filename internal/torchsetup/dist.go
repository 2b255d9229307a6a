package torchsetup

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// DistPackage is the import path of the torch.distributed (c10d) package
// installed into the patched gotch copy (directory DistDir there), beside
// ShimPackage.
const (
	DistPackage = GotchModule + "/bbdist"
	DistDir     = "bbdist"
	distLib     = "libbbdist.a"
)

//go:embed distshim/bbdist.cpp distshim/bbdist.h distshim/bbdist.go.in
var distFS embed.FS

// distFiles maps each embedded source to its name in the installed package.
var distFiles = []struct{ src, dst string }{
	{"distshim/bbdist.cpp", "bbdist.cpp"},
	{"distshim/bbdist.h", "bbdist.h"},
	{"distshim/bbdist.go.in", "bbdist.go"},
}

// DistState is what installDist found and built.
type DistState struct {
	Hash string `json:"hash"` // sources, install and plan (see distPlan.hash)
	// Backends are the process-group backends compiled into libbbdist.a:
	// "gloo", "nccl"; empty when none could be.
	Backends []string `json:"backends"`
	// Note says why a backend is missing ("" when none is).
	Note string `json:"note,omitempty"`
}

// Summary is "gloo,nccl", "gloo", ... or "none (<why>)".
func (d DistState) Summary() string {
	s := strings.Join(d.Backends, ",")
	if s == "" {
		s = "none"
	}
	if d.Note != "" {
		s += " (" + d.Note + ")"
	}
	return s
}

// distPlan is what the install offers torch.distributed: the c10d headers,
// the gloo headers and, on a CUDA install, the CUDA runtime and NCCL
// headers. Finding them costs a few stat calls; compiling against them
// about a minute.
type distPlan struct {
	c10d    bool     // torch/csrc/distributed/c10d/TCPStore.hpp found
	glooInc string   // dir holding gloo/algorithm.h ("" = none)
	ncclInc string   // dir holding nccl.h ("" = none)
	cudaInc string   // dir holding cuda_runtime_api.h ("" = none)
	notes   []string // why something is missing
}

// distVariant is one set of backends to compile.
type distVariant struct{ gloo, nccl bool }

func (v distVariant) backends() []string {
	var b []string
	if v.gloo {
		b = append(b, "gloo")
	}
	if v.nccl {
		b = append(b, "nccl")
	}
	return b
}

// variants returns the backend sets to try, best first; the last is
// always the one without backends, which needs no c10d header.
func (p distPlan) variants() []distVariant {
	var out []distVariant
	gloo, nccl := p.c10d && p.glooInc != "", p.c10d && p.ncclInc != "" && p.cudaInc != ""
	if gloo && nccl {
		out = append(out, distVariant{true, true})
	}
	if gloo {
		out = append(out, distVariant{gloo: true})
	}
	if nccl {
		out = append(out, distVariant{nccl: true})
	}
	return append(out, distVariant{})
}

// compileArgs are the g++ arguments that compile bbdist.cpp for v.
func (p distPlan) compileArgs(in Install, v distVariant) []string {
	args := []string{"-std=c++17", "-O2", "-fPIC", "-w", fmt.Sprintf("-D_GLIBCXX_USE_CXX11_ABI=%d", in.CXX11ABI)}
	if v.gloo {
		args = append(args, "-DUSE_C10D_GLOO", "-DBBDIST_GLOO=1")
	}
	if v.nccl {
		args = append(args, "-DUSE_C10D_NCCL", "-DBBDIST_NCCL=1", "-DBIOBERTPT_CUDA=1")
	}
	for _, d := range in.IncludeDir {
		args = append(args, "-I"+d)
	}
	if v.gloo && !contains(in.IncludeDir, p.glooInc) {
		args = append(args, "-I"+p.glooInc)
	}
	if v.nccl {
		for _, d := range []string{p.cudaInc, p.ncclInc} {
			if !contains(in.IncludeDir, d) {
				args = append(args, "-I"+d)
			}
		}
	}
	return append(args, "-c", "bbdist.cpp", "-o", "bbdist.o")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// libs are the link flags of the package (and of the link check).
func distLibs(in Install) string {
	if in.CUDA {
		return "-Wl,--no-as-needed -lstdc++ -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda"
	}
	return "-ltorch -ltorch_cpu -lc10 -lstdc++"
}

// hash identifies an install of the package: the embedded sources, the
// libtorch install and what the plan found.
func (p distPlan) hash(in Install) (string, error) {
	h := sha256.New()
	for _, f := range distFiles {
		b, err := distFS.ReadFile(f.src)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f.dst, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "%s|c10d=%v|gloo=%s|nccl=%s|cuda=%s|%s\n", in.Key(), p.c10d, p.glooInc, p.ncclInc, p.cudaInc, distLibs(in))
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// glooIncludeCands are the directories searched for gloo/algorithm.h: the
// install's own include dirs first (a libtorch that ships its gloo
// headers), then the system's (Debian's libgloo-dev).
func glooIncludeCands(in Install) []string {
	return append(append([]string(nil), in.IncludeDir...), "/usr/local/include", "/usr/include")
}

// ncclIncludeCands are the directories searched for nccl.h: $NCCL_HOME,
// $NCCL_ROOT, $NCCL_INCLUDE_DIR, pip's nvidia/nccl/include beside a Python
// torch, the install's include dirs, then CUDA's and the system's.
func ncclIncludeCands(in Install) []string {
	var c []string
	for _, env := range []string{"NCCL_HOME", "NCCL_ROOT"} {
		if d := os.Getenv(env); d != "" {
			c = append(c, filepath.Join(d, "include"))
		}
	}
	if d := os.Getenv("NCCL_INCLUDE_DIR"); d != "" {
		c = append(c, d)
	}
	if in.Root != "" {
		c = append(c, filepath.Join(filepath.Dir(in.Root), "nvidia", "nccl", "include"))
	}
	c = append(c, in.IncludeDir...)
	return append(c, "/usr/local/cuda/include", "/usr/local/include", "/usr/include")
}

func findDir(cands []string, file string) string {
	for _, d := range cands {
		if d == "" {
			continue
		}
		if st, err := os.Stat(filepath.Join(d, file)); err == nil && !st.IsDir() {
			return d
		}
	}
	return ""
}

// planDist looks for what torch.distributed needs. With apt (root, a
// Debian libtorch, AptInstall), missing gloo headers are installed from
// Debian's libgloo-dev, the library Debian's libtorch is built against.
func planDist(in Install, apt bool, logf func(string, ...any)) distPlan {
	var p distPlan
	p.c10d = findDir(in.IncludeDir, filepath.Join("torch", "csrc", "distributed", "c10d", "TCPStore.hpp")) != ""
	if !p.c10d {
		p.notes = append(p.notes, fmt.Sprintf("libtorch %s ships no c10d headers (built without USE_DISTRIBUTED)", in.Version))
		return p
	}
	glooPG := findDir(in.IncludeDir, filepath.Join("torch", "csrc", "distributed", "c10d", "ProcessGroupGloo.hpp")) != ""
	if glooPG {
		p.glooInc = findDir(glooIncludeCands(in), filepath.Join("gloo", "algorithm.h"))
		if p.glooInc == "" && apt && in.Source == "debian" && os.Geteuid() == 0 {
			if _, err := exec.LookPath("apt-get"); err == nil {
				logf("installing Debian's libgloo-dev (the gloo headers torch.distributed's CPU backend needs) ...")
				if err := aptInstall(logf, "libgloo-dev"); err != nil {
					logf("warning: %v", err)
				}
				p.glooInc = findDir(glooIncludeCands(in), filepath.Join("gloo", "algorithm.h"))
			}
		}
		if p.glooInc == "" {
			how := "apt-get install libgloo-dev"
			if in.Source != "debian" {
				how = "put gloo's headers on an include path"
			}
			p.notes = append(p.notes, "gloo: no gloo headers ("+how+")")
		}
	} else {
		p.notes = append(p.notes, "gloo: libtorch ships no ProcessGroupGloo.hpp")
	}
	if in.CUDA {
		if findDir(in.IncludeDir, filepath.Join("torch", "csrc", "distributed", "c10d", "ProcessGroupNCCL.hpp")) == "" {
			p.notes = append(p.notes, "nccl: libtorch ships no ProcessGroupNCCL.hpp")
		} else {
			p.ncclInc = findDir(ncclIncludeCands(in), "nccl.h")
			p.cudaInc = cudaRuntimeInclude(in)
			if p.ncclInc == "" {
				p.notes = append(p.notes, "nccl: no nccl.h (set $NCCL_HOME, or pip install nvidia-nccl beside torch)")
			}
			if p.cudaInc == "" {
				p.notes = append(p.notes, "nccl: no CUDA runtime headers (set $CUDA_HOME)")
			}
		}
	}
	return p
}

// distCurrent reports whether dir holds the package with the given hash
// and its library.
func distCurrent(dir, hash string) bool {
	b, err := os.ReadFile(filepath.Join(dir, DistDir, "bbdist.go"))
	if err != nil || !strings.Contains(string(b), `const Version = "`+hash+`"`) {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, DistDir, distLib))
	return err == nil
}

// distFlags is the generated cgo file of the package: the static library
// beside it, then libtorch's libraries, and the build note.
func distFlags(in Install, note string) string {
	return fmt.Sprintf(`// Generated by biobertpt's examples/setup for libtorch %s (%s, %s). Do not edit.
package bbdist

// #cgo LDFLAGS: -L${SRCDIR} -lbbdist -L%s -Wl,-rpath,%s %s
import "C"

// buildNote says why a backend is missing ("" when none is).
const buildNote = %q
`, in.Version, in.Source, map[bool]string{true: "CUDA", false: "CPU"}[in.CUDA], in.LibDir, in.LibDir, distLibs(in), note)
}

// distCheckMain is linked against libbbdist.a to check that the library
// links and loads with the install's libraries, and, when Gloo is compiled
// in, that a one-rank Gloo group works.
const distCheckMain = `#include <stdio.h>
#include <stdlib.h>
#include "bbdist.h"
int main(void) {
  printf("gloo=%d nccl=%d\n", bbdist_has_gloo(), bbdist_has_nccl());
  if (!bbdist_has_gloo()) return 0;
  bbdist_group *g = NULL;
  char *e = bbdist_group_new_single("gloo", 0, 20000, &g);
  if (e == NULL) e = bbdist_barrier(g);
  bbdist_group_free(g);
  if (e != NULL) { fprintf(stderr, "one-rank gloo group: %s\n", e); free(e); return 3; }
  return 0;
}
`

// installDist writes the bbdist package into the gotch copy at dir and
// compiles libbbdist.a there with the best backend set that compiles,
// links and (for Gloo) runs a one-rank group; a libtorch without c10d
// gets the library without backends, whose every call reports why, so
// that nothing else fails to build. The files are written to a temporary
// directory that then replaces dir/bbdist.
func installDist(dir string, in Install, p distPlan, hash, cxx string, logf func(string, ...any)) (DistState, error) {
	st := DistState{Hash: hash}
	dst := filepath.Join(dir, DistDir)
	tmp := dst + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return st, fmt.Errorf("torchsetup: bbdist: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range distFiles {
		b, err := distFS.ReadFile(f.src)
		if err != nil {
			return st, fmt.Errorf("torchsetup: bbdist: %w", err)
		}
		s := strings.ReplaceAll(string(b), "{{DIST_HASH}}", hash)
		if err := os.WriteFile(filepath.Join(tmp, f.dst), []byte(s), 0o644); err != nil {
			return st, fmt.Errorf("torchsetup: bbdist: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "check.c"), []byte(distCheckMain), 0o644); err != nil {
		return st, fmt.Errorf("torchsetup: bbdist: %w", err)
	}
	notes := append([]string(nil), p.notes...)
	built := false
	for _, v := range p.variants() {
		t0 := time.Now()
		err := buildDist(tmp, in, p, v, cxx)
		if err == nil {
			st.Backends = v.backends()
			built = true
			if len(st.Backends) > 0 {
				logf("bbdist: compiled with %s in %s", strings.Join(st.Backends, ","), time.Since(t0).Round(time.Second))
			}
			break
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) && !errors.Is(err, errDistCheck) {
			return st, fmt.Errorf("torchsetup: bbdist: %w (install g++)", err)
		}
		if len(v.backends()) == 0 {
			return st, fmt.Errorf("torchsetup: bbdist without backends does not build: %w", err)
		}
		logf("bbdist: %s does not build against libtorch %s (%s); trying fewer backends", strings.Join(v.backends(), ","), in.Version, firstLine(err.Error()))
		notes = append(notes, strings.Join(v.backends(), ",")+": "+firstLine(err.Error()))
	}
	if !built {
		return st, errors.New("torchsetup: bbdist: no variant built")
	}
	if len(st.Backends) == 0 || (in.CUDA && !contains(st.Backends, "nccl")) || !contains(st.Backends, "gloo") {
		st.Note = strings.Join(notes, "; ")
	}
	for _, f := range []string{"check.c", "check.o", "check", "bbdist.o"} {
		_ = os.Remove(filepath.Join(tmp, f))
	}
	// cgo would compile a .cpp left in the package directory: the source
	// stays beside it, in src/, for reference.
	if err := os.MkdirAll(filepath.Join(tmp, "src"), 0o755); err != nil {
		return st, fmt.Errorf("torchsetup: bbdist: %w", err)
	}
	if err := os.Rename(filepath.Join(tmp, "bbdist.cpp"), filepath.Join(tmp, "src", "bbdist.cpp")); err != nil {
		return st, fmt.Errorf("torchsetup: bbdist: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "cgo_flags.go"), []byte(distFlags(in, st.Note)), 0o644); err != nil {
		return st, fmt.Errorf("torchsetup: bbdist: %w", err)
	}
	old := dst + ".old"
	_ = os.RemoveAll(old)
	if _, err := os.Stat(dst); err == nil {
		if err := os.Rename(dst, old); err != nil {
			return st, fmt.Errorf("torchsetup: bbdist: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return st, fmt.Errorf("torchsetup: bbdist: %w", err)
	}
	_ = os.RemoveAll(old)
	return st, nil
}

var errDistCheck = errors.New("link check failed")

// buildDist compiles bbdist.cpp for v into dir/libbbdist.a, links
// check.c against it and runs the result.
func buildDist(dir string, in Install, p distPlan, v distVariant, cxx string) error {
	run := func(name string, args ...string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			if _, ok := err.(*exec.ExitError); ok {
				return fmt.Errorf("%w: %s %s:\n%s", errDistCheck, name, args[len(args)-1], tail(out, 3000))
			}
			return err
		}
		return nil
	}
	_ = os.Remove(filepath.Join(dir, distLib))
	if err := run(cxx, p.compileArgs(in, v)...); err != nil {
		return err
	}
	ar := "ar"
	if _, err := exec.LookPath(ar); err != nil {
		return fmt.Errorf("no ar (install binutils): %w", err)
	}
	if err := run(ar, "rcs", distLib, "bbdist.o"); err != nil {
		return err
	}
	if err := run(cxx, "-c", "-x", "c", "check.c", "-o", "check.o"); err != nil {
		return err
	}
	link := []string{"check.o", "-o", "check", "-L.", "-lbbdist", "-L" + in.LibDir, "-Wl,-rpath," + in.LibDir}
	link = append(link, strings.Fields(distLibs(in))...)
	link = append(link, "-lpthread")
	if err := run(cxx, link...); err != nil {
		return err
	}
	return run(filepath.Join(dir, "check"), "check")
}

func firstLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if strings.Contains(l, "error:") {
			return strings.TrimSpace(l)
		}
	}
	return lines[0]
}

// ensureDist installs the bbdist package into the copy at dir unless the
// copy already holds the one the current plan asks for; it reports
// whether it installed.
func ensureDist(dir string, in Install, st *State, cxx string, apt bool, logf func(string, ...any)) (bool, error) {
	p := planDist(in, apt, logf)
	hash, err := p.hash(in)
	if err != nil {
		return false, fmt.Errorf("torchsetup: bbdist: %w", err)
	}
	if st.Dist.Hash == hash && distCurrent(dir, hash) {
		return false, nil
	}
	logf("compiling the torch.distributed package bbdist %s (the c10d headers take about a minute) ...", hash)
	ds, err := installDist(dir, in, p, hash, cxx, logf)
	if err != nil {
		return false, err
	}
	st.Dist = ds
	return true, nil
}
