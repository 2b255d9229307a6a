package torchsetup

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	cpuInstall  = Install{Source: "debian", Root: "/usr", IncludeDir: []string{"/usr/include", "/usr/include/torch/csrc/api/include"}, LibDir: "/usr/lib/x86_64-linux-gnu", Version: "1.13.0", CXX11ABI: 1}
	cudaInstall = Install{Source: "python", Root: "/nowhere/site-packages/torch", IncludeDir: []string{"/t/include"}, LibDir: "/t/lib", Version: "2.11.0", CXX11ABI: 1, CUDA: true}
)

func TestShimFlags(t *testing.T) {
	s := shimFlags(cpuInstall, "")
	assert.Contains(t, s, "package bbshim\n")
	assert.Contains(t, s, "// #cgo LDFLAGS: -L/usr/lib/x86_64-linux-gnu -Wl,-rpath,/usr/lib/x86_64-linux-gnu -ltorch -ltorch_cpu -lc10 -lstdc++\n")
	assert.Contains(t, s, "// #cgo CXXFLAGS: -std=c++17 -O2 -g0 -w -D_GLIBCXX_USE_CXX11_ABI=1 -I/usr/include -I/usr/include/torch/csrc/api/include\nimport \"C\"\n",
		"libtch's include flags, no comment between the directives and import \"C\"")
	assert.NotContains(t, s, "BIOBERTPT_CUDA")

	s = shimFlags(cudaInstall, "")
	assert.Contains(t, s, "-ltorch_cuda -lc10 -lc10_cuda -ldl\n", "dlsym for cudaMemGetInfo")
	assert.Contains(t, s, "-D_GLIBCXX_USE_CXX11_ABI=1 -DBIOBERTPT_CUDA=1 -I/t/include\n")
	assert.NotContains(t, s, "BIOBERTPT_CUDA_STATS", "no CUDA runtime headers: no allocator stats")

	s = shimFlags(cudaInstall, "/cuda/include")
	assert.Contains(t, s, "-DBIOBERTPT_CUDA=1 -DBIOBERTPT_CUDA_STATS=1 -I/cuda/include -I/t/include\n")
}

func TestCUDARuntimeInclude(t *testing.T) {
	assert.Equal(t, "", cudaRuntimeInclude(cpuInstall), "CPU installs need none")
	site := t.TempDir()
	in := cudaInstall
	in.Root = filepath.Join(site, "torch")
	t.Setenv("CUDA_HOME", "")
	t.Setenv("CUDA_PATH", "")
	inc := filepath.Join(site, "nvidia", "cuda_runtime", "include")
	require.NoError(t, os.MkdirAll(inc, 0o755))
	if _, err := os.Stat("/usr/local/cuda/include/cuda_runtime_api.h"); err != nil {
		if _, err := os.Stat("/usr/include/cuda_runtime_api.h"); err != nil {
			assert.Equal(t, "", cudaRuntimeInclude(in), "no header anywhere")
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(inc, "cuda_runtime_api.h"), nil, 0o644))
	assert.Equal(t, inc, cudaRuntimeInclude(in), "pip's nvidia/cuda_runtime/include beside torch")
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, "include"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, "include", "cuda_runtime_api.h"), nil, 0o644))
	t.Setenv("CUDA_HOME", home)
	assert.Equal(t, filepath.Join(home, "include"), cudaRuntimeInclude(in), "$CUDA_HOME first")
}

func TestInstallShim(t *testing.T) {
	dir := t.TempDir()
	hash, err := installShim(dir, cpuInstall, "", nil)
	require.NoError(t, err)
	want, err := shimHash(cpuInstall, "")
	require.NoError(t, err)
	assert.Equal(t, want, hash)
	assert.Len(t, hash, 16)
	assert.True(t, shimCurrent(dir, hash))
	for _, f := range []string{"bbshim.cpp", "bbshim.h", "bbshim.go", "cgo_flags.go"} {
		assert.FileExists(t, filepath.Join(dir, ShimDir, f))
	}
	g, err := os.ReadFile(filepath.Join(dir, ShimDir, "bbshim.go"))
	require.NoError(t, err)
	assert.Contains(t, string(g), `const Version = "`+hash+`"`)
	assert.NotContains(t, string(g), "{{")
	assert.Contains(t, string(g), "package bbshim\n")
	c, err := os.ReadFile(filepath.Join(dir, ShimDir, "cgo_flags.go"))
	require.NoError(t, err)
	assert.Equal(t, shimFlags(cpuInstall, ""), string(c))

	// A stale file is replaced, nothing is left beside the package.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ShimDir, "stale.go"), []byte("package bbshim\n"), 0o644))
	assert.False(t, shimCurrent(dir, "0123456789abcdef"))
	_, err = installShim(dir, cpuInstall, "", nil)
	require.NoError(t, err)
	assert.NoFileExists(t, filepath.Join(dir, ShimDir, "stale.go"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no .tmp/.old directories left")

	other, err := shimHash(cudaInstall, "")
	require.NoError(t, err)
	assert.NotEqual(t, hash, other, "the flags are part of the hash")
}

// TestPrepareReinstallsShimInPlace: a copy prepared by this patchVersion
// whose shim is missing or out of date gets the shim installed at the same
// path, without the copy being prepared again.
func TestPrepareReinstallsShimInPlace(t *testing.T) {
	cache := t.TempDir()
	dest := filepath.Join(cache, "gotch-"+GotchVersion+"-"+hashKey(cpuInstall))
	require.NoError(t, os.MkdirAll(filepath.Join(dest, "libtch"), 0o755))
	lib := filepath.Join(dest, "libtch", "lib.go")
	require.NoError(t, os.WriteFile(lib, []byte("package libtch // marker\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dest, "libtch", libtchArchive), []byte("!<arch>\n"), 0o644))
	require.NoError(t, writeState(dest, State{Key: cpuInstall.Key(), PatchVersion: patchVersion, Install: cpuInstall, ShimHash: "old", Dist: markDistCurrent(t, dest, cpuInstall)}))

	res, err := Prepare(cpuInstall, PrepareOptions{CacheDir: cache})
	require.NoError(t, err)
	assert.Equal(t, dest, res.Dir, "same path: the compiled wrapper library stays")
	assert.True(t, res.ShimInstalled)
	assert.False(t, res.Reused)
	want, err := shimHash(cpuInstall, "")
	require.NoError(t, err)
	assert.Equal(t, want, res.State.ShimHash)
	assert.True(t, shimCurrent(dest, want))
	b, err := os.ReadFile(lib)
	require.NoError(t, err)
	assert.Equal(t, "package libtch // marker\n", string(b), "libtch untouched")
	st, ok := readState(dest)
	require.True(t, ok)
	assert.Equal(t, want, st.ShimHash, "state records the installed shim")

	res, err = Prepare(cpuInstall, PrepareOptions{CacheDir: cache})
	require.NoError(t, err)
	assert.True(t, res.Reused, "nothing changed")
	assert.False(t, res.ShimInstalled)

	// An edited installed file (hash no longer in bbshim.go) is re-installed.
	require.NoError(t, os.WriteFile(filepath.Join(dest, ShimDir, "bbshim.go"), []byte("package bbshim\n"), 0o644))
	res, err = Prepare(cpuInstall, PrepareOptions{CacheDir: cache})
	require.NoError(t, err)
	assert.True(t, res.ShimInstalled)
}

// TestShimCompilesAgainstLocalLibtorch syntax-checks bbshim.cpp with the
// flags setup would generate, for a CPU and a CUDA build (the CUDA
// allocator statistics need CUDA headers and are not checked here).
func TestShimCompilesAgainstLocalLibtorch(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	in, err := Detect(DetectOptions{})
	if err != nil {
		t.Skipf("no libtorch: %v", err)
	}
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++")
	}
	dir := t.TempDir()
	_, err = installShim(dir, in, "", nil)
	require.NoError(t, err)
	for _, defs := range [][]string{nil, {"-DBIOBERTPT_CUDA=1"}} {
		args := []string{"-std=c++17", "-fsyntax-only", "-w", "-D_GLIBCXX_USE_CXX11_ABI=" + string(rune('0'+in.CXX11ABI))}
		args = append(args, defs...)
		for _, d := range in.IncludeDir {
			args = append(args, "-I"+d)
		}
		args = append(args, "bbshim.cpp")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, cxx, args...)
		cmd.Dir = filepath.Join(dir, ShimDir)
		out, err := cmd.CombinedOutput()
		cancel()
		require.NoError(t, err, "g++ %s:\n%s", strings.Join(args, " "), out)
	}
}

func TestCheckShimFallsBack(t *testing.T) {
	dir := t.TempDir()
	// A fake compiler that accepts bbshim.cpp only without fused AdamW.
	cxx := filepath.Join(dir, "fake-g++")
	require.NoError(t, os.WriteFile(cxx, []byte("#!/bin/sh\ncase \"$*\" in *BBSHIM_NO_FUSED*) exit 0;; esac\necho 'bbshim.cpp:1: error: no matching function _fused_adamw_' >&2\nexit 1\n"), 0o755))
	var logged []string
	logf := func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }
	defs, inc, err := checkShim(dir, cudaInstall, "/cuda/include", cxx, logf)
	require.NoError(t, err)
	assert.Equal(t, []string{"-DBBSHIM_NO_FUSED=1"}, defs)
	assert.Equal(t, "/cuda/include", inc, "CUDA stats stay on when only fused AdamW fails")
	assert.Len(t, logged, 3, "all levers, without graphs, then without fused AdamW: %v", logged)

	never := filepath.Join(dir, "never-g++")
	require.NoError(t, os.WriteFile(never, []byte("#!/bin/sh\necho 'bbshim.cpp:7: error: broken' >&2\nexit 1\n"), 0o755))
	_, _, err = checkShim(dir, cpuInstall, "", never, nil)
	require.ErrorContains(t, err, "bbshim.cpp:7: error: broken")
}
