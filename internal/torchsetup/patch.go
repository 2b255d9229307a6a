package torchsetup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// GotchModule and GotchVersion name the module that is copied and patched.
const (
	GotchModule  = "github.com/sugarme/gotch"
	GotchVersion = "v0.9.1"
	// patchVersion changes whenever Prepare's output changes, so that old
	// copies are prepared again.
	patchVersion = 5
	stateFile    = ".biobertpt-setup.json"
)

// State is what Prepare records beside the patched copy.
type State struct {
	Key          string    `json:"key"`
	PatchVersion int       `json:"patch_version"`
	Install      Install   `json:"install"`
	Stubbed      []string  `json:"stubbed"`
	ShimHash     string    `json:"shim_hash"` // the installed bbshim package (see installShim)
	Dist         DistState `json:"dist"`      // the installed bbdist package (see installDist)
	PreparedAt   time.Time `json:"prepared_at"`
}

// Result is what Prepare did.
type Result struct {
	Dir    string // the patched gotch copy
	State  State
	Reused bool // nothing changed since the last run
	// ShimInstalled is true when the bbshim package was (re)installed
	// into an otherwise reused copy (its sources or flags changed).
	ShimInstalled bool
	// DistInstalled is true when the bbdist package was (re)compiled
	// into an otherwise reused copy.
	DistInstalled bool
}

// PrepareOptions configures Prepare.
type PrepareOptions struct {
	// CacheDir holds the patched copies, one per libtorch install, each
	// with gotch's C++ wrappers compiled once into a static library that
	// every module's LocalDir links (see PointModule).
	CacheDir string
	// CXX is the C++ compiler for the syntax checks ("g++" when empty).
	CXX string
	// AptInstall allows installing Debian's libgloo-dev with apt-get (as
	// root, for a Debian libtorch) when the gloo headers that the
	// torch.distributed package needs are missing.
	AptInstall bool
	// Log receives progress lines; nil discards them.
	Log func(format string, a ...any)
}

// DefaultCacheDir is $BIOBERTPT_TORCH_CACHE, else $XDG_CACHE_HOME/biobertpt,
// else ~/.cache/biobertpt.
func DefaultCacheDir() string {
	if d := os.Getenv("BIOBERTPT_TORCH_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "biobertpt")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "biobertpt")
	}
	return filepath.Join(os.TempDir(), "biobertpt-cache")
}

func hashKey(in Install) string {
	// patchVersion is not part of the key: a new patch re-prepares the copy
	// in place, so the path (and Go's path-keyed cache of the unchanged C++
	// wrappers) stays the same.
	h := sha256.Sum256([]byte(fmt.Sprintf("%s@%s|%s", GotchModule, GotchVersion, in.Key())))
	return hex.EncodeToString(h[:])[:12]
}

// Prepare makes (or reuses) a copy of gotch whose cgo flags and C++ wrappers
// fit the given libtorch: CPU or CUDA link flags, include dirs, rpath, C++17,
// the C++ ABI flag, and every wrapper that does not compile against this
// libtorch turned into a function that returns a clear error.
func Prepare(in Install, o PrepareOptions) (Result, error) {
	logf := o.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir()
	}
	cache, err := filepath.Abs(o.CacheDir)
	if err != nil {
		return Result{}, fmt.Errorf("torchsetup: cache dir: %w", err)
	}
	dest := filepath.Join(cache, "gotch-"+GotchVersion+"-"+hashKey(in))
	if st, ok := readState(dest); ok && st.Key == in.Key() && st.PatchVersion == patchVersion {
		hash, err := shimHash(in, cudaRuntimeInclude(in))
		if err != nil {
			return Result{}, fmt.Errorf("torchsetup: shim: %w", err)
		}
		shimOK := st.ShimHash == hash && shimCurrent(dest, hash)
		if !shimOK {
			// Only the shim changed: re-install it in place (same path, so
			// Go's cache of the unchanged libtch/ts packages stays valid).
			logf("installing the bbshim package %s into %s", hash, dest)
			if st.ShimHash, err = installShim(dest, in, cxxOf(o), logf); err != nil {
				return Result{}, err
			}
		}
		distDone, err := ensureDist(dest, in, &st, cxxOf(o), o.AptInstall, logf)
		if err != nil {
			return Result{}, err
		}
		if err := archiveLibtch(dest, in, cxxOf(o), logf); err != nil {
			return Result{}, err
		}
		if shimOK && !distDone {
			return Result{Dir: dest, State: st, Reused: true}, nil
		}
		if err := writeState(dest, st); err != nil {
			return Result{}, err
		}
		return Result{Dir: dest, State: st, ShimInstalled: !shimOK, DistInstalled: distDone}, nil
	}
	logf("preparing a patched gotch %s for libtorch %s (%s) in %s", GotchVersion, in.Version, in.Source, dest)
	src, err := gotchSource()
	if err != nil {
		return Result{}, err
	}
	tmp := dest + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := copyTree(src, tmp, map[string]bool{"example": true, "gen": true}); err != nil {
		return Result{}, fmt.Errorf("torchsetup: copy %s: %w", src, err)
	}
	libtch := filepath.Join(tmp, "libtch")
	if err := os.WriteFile(filepath.Join(libtch, "lib.go"), []byte(libGo(in)), 0o644); err != nil {
		return Result{}, err
	}
	cxx := cxxOf(o)
	stubbed, err := stubLoop(in, libtch, cxx, logf)
	if err != nil {
		return Result{}, err
	}
	if err := patchGoSide(tmp); err != nil {
		return Result{}, err
	}
	hash, err := installShim(tmp, in, cxx, logf)
	if err != nil {
		return Result{}, err
	}
	st := State{Key: in.Key(), PatchVersion: patchVersion, Install: in, Stubbed: stubbed, ShimHash: hash, PreparedAt: time.Now().UTC()}
	if _, err := ensureDist(tmp, in, &st, cxx, o.AptInstall, logf); err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(filepath.Join(libtch, "STUBBED.txt"), []byte(strings.Join(stubbed, "\n")+"\n"), 0o644); err != nil {
		return Result{}, err
	}
	if err := archiveLibtch(tmp, in, cxx, logf); err != nil {
		return Result{}, err
	}
	if err := writeState(tmp, st); err != nil {
		return Result{}, err
	}
	_ = os.RemoveAll(dest)
	if err := os.Rename(tmp, dest); err != nil {
		return Result{}, fmt.Errorf("torchsetup: %w", err)
	}
	return Result{Dir: dest, State: st}, nil
}

func writeState(dir string, st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("torchsetup: %w", err)
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("torchsetup: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("torchsetup: %w", err)
	}
	return nil
}

func readState(dir string) (State, bool) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return State{}, false
	}
	var st State
	if json.Unmarshal(b, &st) != nil {
		return State{}, false
	}
	if _, err := os.Stat(filepath.Join(dir, "libtch", "lib.go")); err != nil {
		return State{}, false
	}
	return st, true
}

// gotchSource downloads the module (through the Go module proxy or the
// local module cache) and returns its directory.
func gotchSource() (string, error) {
	// Already extracted in the module cache (also offline, as on the GPU
	// machine, whose packed cache keeps no zips for go mod download).
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "sugarme", "gotch@"+GotchVersion)
		if st, err := os.Stat(filepath.Join(dir, "libtch", "torch_api.cpp")); err == nil && !st.IsDir() {
			return dir, nil
		}
	}
	tmp, err := os.MkdirTemp("", "biobertpt-setup-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "go.mod"), []byte("module tmp\n\ngo 1.21\n"), 0o644); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", GotchModule+"@"+GotchVersion)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	_ = json.Unmarshal(out, &info)
	if err != nil || info.Dir == "" {
		return "", fmt.Errorf("torchsetup: go mod download %s@%s: %v %s", GotchModule, GotchVersion, err, info.Error)
	}
	return info.Dir, nil
}

func copyTree(src, dst string, skipTop map[string]bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() && skipTop[rel] {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// libGo is the replacement for libtch/lib.go. No comment may sit directly
// above import "C": cgo would take it as C preamble.
func libGo(in Install) string {
	inc := ""
	for _, d := range in.IncludeDir {
		inc += " -I" + d
	}
	libs := "-ltorch -ltorch_cpu -lc10 -lstdc++"
	if in.CUDA {
		libs = "-Wl,--no-as-needed -lstdc++ -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda"
	}
	return fmt.Sprintf(`// Generated by biobertpt's examples/setup for libtorch %s (%s, %s). Do not edit.
package libtch

// #cgo LDFLAGS: -L%s -Wl,-rpath,%s %s
// #cgo CFLAGS: -I${SRCDIR} -O1 -Wall -Wno-unused-variable -Wno-deprecated-declarations -Wno-sign-compare -Wno-unused-function -D_GLIBCXX_USE_CXX11_ABI=%d
// #cgo CXXFLAGS: -std=c++17 -I${SRCDIR} -O1 -g0 -w -D_GLIBCXX_USE_CXX11_ABI=%d%s
import "C"
`, in.Version, in.Source, map[bool]string{true: "CUDA", false: "CPU"}[in.CUDA], in.LibDir, in.LibDir, libs, in.CXX11ABI, in.CXX11ABI, inc)
}

var (
	genLocRe  = regexp.MustCompile(`torch_api_generated\.cpp\.h:(\d+)`)
	funcRe    = regexp.MustCompile(`^\S.*?\b(atg_\w+)\(`)
	protectRe = regexp.MustCompile(`^  PROTECT\(\s*$`)
	closeRe   = regexp.MustCompile(`^  \)\s*$`)
)

// stubLoop syntax-checks torch_api.cpp and turns each generated wrapper that
// fails to compile into one that throws; it repeats until the file compiles.
func stubLoop(in Install, libtch, cxx string, logf func(string, ...any)) ([]string, error) {
	gen := filepath.Join(libtch, "torch_api_generated.cpp.h")
	args := []string{"-std=c++17", "-fsyntax-only", "-w", "-fmax-errors=0", fmt.Sprintf("-D_GLIBCXX_USE_CXX11_ABI=%d", in.CXX11ABI), "-I."}
	for _, d := range in.IncludeDir {
		args = append(args, "-I"+d)
	}
	args = append(args, "torch_api.cpp")
	var all []string
	for iter := 1; ; iter++ {
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		cmd := exec.CommandContext(ctx, cxx, args...)
		cmd.Dir = libtch
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			logf("C++ wrappers compile against libtorch %s (check %d took %s)", in.Version, iter, time.Since(t0).Round(time.Second))
			break
		}
		if _, ok := err.(*exec.ExitError); !ok {
			return nil, fmt.Errorf("torchsetup: run %s: %w (install g++)", cxx, err)
		}
		if bytes.Contains(out, []byte("torch_api.cpp:")) && bytes.Contains(out, []byte("error:")) && !genLocRe.Match(out) {
			return nil, fmt.Errorf("torchsetup: gotch's torch_api.cpp does not compile against libtorch %s:\n%s", in.Version, tail(out, 3000))
		}
		lines := map[int]bool{}
		for _, m := range genLocRe.FindAllSubmatch(out, -1) {
			var n int
			fmt.Sscan(string(m[1]), &n)
			lines[n] = true
		}
		if len(lines) == 0 {
			return nil, fmt.Errorf("torchsetup: C++ errors outside the generated wrappers:\n%s", tail(out, 3000))
		}
		names, err := stubFunctions(gen, lines, in.MajorMinor())
		if err != nil {
			return nil, err
		}
		logf("check %d: %d wrappers do not compile against libtorch %s; stubbed (%s)", iter, len(names), in.Version, time.Since(t0).Round(time.Second))
		if len(names) == 0 {
			return nil, fmt.Errorf("torchsetup: no progress stubbing wrappers:\n%s", tail(out, 3000))
		}
		all = append(all, names...)
		if iter >= 10 {
			return nil, fmt.Errorf("torchsetup: wrappers still fail after %d rounds", iter)
		}
	}
	sort.Strings(all)
	return all, nil
}

// stubFunctions replaces the PROTECT( ... ) body of every atg_* function that
// contains one of the given lines with a throw; it returns their names.
func stubFunctions(path string, bad map[int]bool, ver string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var src []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		src = append(src, sc.Text())
	}
	// function start lines (1-based) and names
	var starts []int
	var names []string
	for i, l := range src {
		if m := funcRe.FindStringSubmatch(l); m != nil {
			starts = append(starts, i+1)
			names = append(names, m[1])
		}
	}
	hit := map[int]string{}
	for ln := range bad {
		k := sort.SearchInts(starts, ln+1) - 1 // last start <= ln
		if k >= 0 {
			hit[starts[k]] = names[k]
		}
	}
	var out []string
	var stubbed []string
	for i := 0; i < len(src); i++ {
		name, ok := hit[i+1]
		if !ok {
			out = append(out, src[i])
			continue
		}
		for ; i < len(src) && !protectRe.MatchString(src[i]); i++ {
			out = append(out, src[i])
		}
		if i == len(src) {
			return nil, fmt.Errorf("torchsetup: %s: no PROTECT( body in %s", path, name)
		}
		out = append(out, src[i])
		for i++; i < len(src) && !closeRe.MatchString(src[i]); i++ {
		}
		out = append(out, fmt.Sprintf(`    throw std::runtime_error("%s is not available in libtorch %s (stubbed by biobertpt setup: it does not compile against this version)");`, name, ver))
		if i < len(src) {
			out = append(out, src[i])
		}
		stubbed = append(stubbed, name)
	}
	sort.Strings(stubbed)
	return stubbed, os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644)
}

// patchGoSide applies the Go fixes in ts/:
//   - ts.UseFinalizer: gotch frees C tensors from finalizers without
//     runtime.KeepAlive, and allocates a 100 KB Go object per tensor to make
//     the GC run often. With UseFinalizer=false neither happens and memory is
//     fully explicit (MustDrop); the default keeps gotch's behaviour.
//   - Float64Values leaked its temporary float64 copy.
//   - Every generated op mallocs its output slot with malloc(0) and never
//     frees it (8-32 bytes an op: hundreds of MB over a long training run),
//     and multi-output ops write several pointers into that zero-size block.
//     The slots are now sized and freed when the op returns (the result has
//     been read from them by then).
//   - In-place ops overwrote the receiver's C handle without freeing the old
//     one; the old handle kept a reference to the tensor, so its memory was
//     never released. The old handle is now freed (the new one refers to the
//     same tensor).
//   - gotch's Must* wrappers (and the rest of ts/ and nn/) end the process
//     with log.Fatal on any libtorch error, a CUDA out-of-memory inside the
//     forward pass included, so nothing can recover. In every non-test Go
//     file of ts/ and nn/, log.Fatal(err) becomes panic(err) and the other
//     log.Fatal/log.Fatalf calls panic with an error holding their message
//     (biobertptFatal/biobertptFatalf in biobertpt_patch.go); a file that
//     imports log keeps compiling through `var _ = log.Printf`. A deferred
//     torchutil.Recover turns the panic into an ordinary error. Stock
//     gotch still exits, so code must keep recovering and must not rely on
//     the panic for control flow.
func patchGoSide(dir string) error {
	// Check the fatal-call sources first, so that a mismatch writes nothing.
	for _, f := range fatalRequired {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return fmt.Errorf("torchsetup: patch: %w", err)
		}
		if !bytes.Contains(b, []byte("log.Fatal(err)")) {
			return fmt.Errorf("torchsetup: patch %s: no log.Fatal(err) to turn into a panic", f)
		}
	}
	edits := map[string][]struct {
		old, new string
		all      bool
	}{
		"tensor.go": {
			{old: "\tx.d = new(bigStruct)\n", new: "\tif UseFinalizer {\n\t\tx.d = new(bigStruct)\n\t}\n"},
			{old: "\n\truntime.SetFinalizer(x, freeCTensor)\n", new: "\n\tif UseFinalizer {\n\t\truntime.SetFinalizer(x, freeCTensor)\n\t}\n"},
			{old: "\t// float64Ts.MustDrop()", new: "\tfloat64Ts.MustDrop()"},
		},
		"tensor-generated.go": {
			{old: "  ptr := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))\n", new: "  ptr := (*lib.Ctensor)(unsafe.Pointer(C.malloc(16)))\n  defer C.free(unsafe.Pointer(ptr))\n", all: true},
			{old: "  ctensorPtr0 := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))\n", new: "  ctensorPtr0 := (*lib.Ctensor)(unsafe.Pointer(C.malloc(256)))\n  defer C.free(unsafe.Pointer(ctensorPtr0))\n", all: true},
			{old: "\n  ts.ctensor = *ptr\n", new: "\n  lib.AtFree(ts.ctensor)\n  ts.ctensor = *ptr\n", all: true},
		},
	}
	for file, list := range edits {
		f := filepath.Join(dir, "ts", file)
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		s := string(b)
		for _, r := range list {
			if !strings.Contains(s, r.old) {
				return fmt.Errorf("torchsetup: patch %s: %q not found", f, r.old)
			}
			n := 1
			if r.all {
				n = -1
			}
			s = strings.Replace(s, r.old, r.new, n)
		}
		if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
			return err
		}
	}
	if err := fatalToPanic(dir); err != nil {
		return err
	}
	extra := `package ts

import (
	"errors"
	"fmt"
	"strings"
)

// UseFinalizer controls whether tensors created from now on get a Go
// finalizer that frees the C tensor (gotch's default: true). Set it to false
// before creating tensors to make memory fully explicit (MustDrop).
// Added by biobertpt's setup.
var UseFinalizer = true

// MustPanics is true in gotch copies prepared by biobertpt's setup: the
// Must* functions (and every other log.Fatal in ts and nn) panic with the
// error instead of ending the process, so a deferred recover can turn a
// libtorch failure into an error. Stock gotch has no MustPanics.
const MustPanics = true
` + fatalHelpers
	if err := os.WriteFile(filepath.Join(dir, "ts", "biobertpt_patch.go"), []byte(extra), 0o644); err != nil {
		return err
	}
	nnExtra := "package nn\n\nimport (\n\t\"errors\"\n\t\"fmt\"\n\t\"strings\"\n)\n" + fatalHelpers
	return os.WriteFile(filepath.Join(dir, "nn", "biobertpt_patch.go"), []byte(nnExtra), 0o644)
}

// fatalHelpers replace gotch's log.Fatal and log.Fatalf calls other than
// log.Fatal(err) (see fatalToPanic); written into ts and nn.
const fatalHelpers = `
// biobertptFatal replaces gotch's log.Fatal(msg): it panics with an error
// holding the message instead of ending the process. Added by biobertpt's
// setup.
func biobertptFatal(v ...any) {
	panic(errors.New(strings.TrimSuffix(fmt.Sprint(v...), "\n")))
}

// biobertptFatalf replaces gotch's log.Fatalf(format, ...): it panics with
// an error holding the message instead of ending the process. Added by
// biobertpt's setup.
func biobertptFatalf(format string, v ...any) {
	panic(errors.New(strings.TrimSuffix(fmt.Sprintf(format, v...), "\n")))
}
`

// fatalRequired are the files of gotch v0.9.1 that must hold log.Fatal(err)
// calls: their absence means the sources are not the expected ones (or are
// already patched).
var fatalRequired = []string{"ts/must-tensor-generated.go", "ts/tensor.go", "ts/patch.go"}

// logImportRe matches an active (not commented-out) import of "log".
var logImportRe = regexp.MustCompile(`(?m)^\s*(log\s+)?"log"\s*$`)

// fatalToPanic rewrites every non-test Go file in dir/ts and dir/nn:
// log.Fatal(err) becomes panic(err), log.Fatalf( becomes biobertptFatalf(
// and log.Fatal( becomes biobertptFatal(. A rewritten file that imports log
// gets `var _ = log.Printf` so that the import stays used.
func fatalToPanic(dir string) error {
	for _, sub := range []string{"ts", "nn"} {
		files, err := filepath.Glob(filepath.Join(dir, sub, "*.go"))
		if err != nil {
			return fmt.Errorf("torchsetup: patch: %w", err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("torchsetup: patch: %w", err)
			}
			s := string(b)
			if !strings.Contains(s, "log.Fatal") {
				continue
			}
			s = strings.ReplaceAll(s, "log.Fatal(err)", "panic(err)")
			s = strings.ReplaceAll(s, "log.Fatalf(", "biobertptFatalf(")
			s = strings.ReplaceAll(s, "log.Fatal(", "biobertptFatal(")
			if logImportRe.MatchString(s) {
				s += "\n// Added by biobertpt's setup: the fatal log calls became panics, so log may be unused.\nvar _ = log.Printf\n"
			}
			if err := os.WriteFile(f, []byte(s), 0o644); err != nil {
				return fmt.Errorf("torchsetup: patch: %w", err)
			}
		}
	}
	return nil
}

// cxxOf is the C++ compiler of o ("g++" when empty).
func cxxOf(o PrepareOptions) string {
	if o.CXX == "" {
		return "g++"
	}
	return o.CXX
}
