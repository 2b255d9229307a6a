package torchsetup

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDistVariants(t *testing.T) {
	cases := []struct {
		name string
		p    distPlan
		want []string
	}{
		{"no c10d", distPlan{glooInc: "/g", ncclInc: "/n", cudaInc: "/c"}, []string{""}},
		{"gloo", distPlan{c10d: true, glooInc: "/usr/include"}, []string{"gloo", ""}},
		{"gloo and nccl", distPlan{c10d: true, glooInc: "/g", ncclInc: "/n", cudaInc: "/c"}, []string{"gloo,nccl", "gloo", "nccl", ""}},
		{"nccl without CUDA headers", distPlan{c10d: true, ncclInc: "/n"}, []string{""}},
		{"nccl only", distPlan{c10d: true, ncclInc: "/n", cudaInc: "/c"}, []string{"nccl", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, v := range tc.p.variants() {
				got = append(got, strings.Join(v.backends(), ","))
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDistCompileArgs(t *testing.T) {
	p := distPlan{c10d: true, glooInc: "/usr/include", ncclInc: "/site/nvidia/nccl/include", cudaInc: "/cuda/include"}
	args := strings.Join(p.compileArgs(cpuInstall, distVariant{gloo: true}), " ")
	assert.Equal(t, "-std=c++17 -O2 -fPIC -w -D_GLIBCXX_USE_CXX11_ABI=1 -DUSE_C10D_GLOO -DBBDIST_GLOO=1 -I/usr/include -I/usr/include/torch/csrc/api/include -c bbdist.cpp -o bbdist.o", args,
		"the gloo dir is already an include dir")
	args = strings.Join(p.compileArgs(cudaInstall, distVariant{gloo: true, nccl: true}), " ")
	assert.Contains(t, args, "-DUSE_C10D_GLOO -DBBDIST_GLOO=1 -DUSE_C10D_NCCL -DBBDIST_NCCL=1 -DBIOBERTPT_CUDA=1 -I/t/include -I/usr/include -I/cuda/include -I/site/nvidia/nccl/include -c bbdist.cpp")
	args = strings.Join(p.compileArgs(cudaInstall, distVariant{}), " ")
	assert.NotContains(t, args, "C10D")
}

func TestDistFlags(t *testing.T) {
	s := distFlags(cpuInstall, "")
	assert.Contains(t, s, "package bbdist\n")
	assert.Contains(t, s, "// #cgo LDFLAGS: -L${SRCDIR} -lbbdist -L/usr/lib/x86_64-linux-gnu -Wl,-rpath,/usr/lib/x86_64-linux-gnu -ltorch -ltorch_cpu -lc10 -lstdc++\nimport \"C\"\n")
	assert.Contains(t, s, "const buildNote = \"\"\n")
	s = distFlags(cudaInstall, `nccl: no "nccl.h"`)
	assert.Contains(t, s, "-ltorch_cuda -lc10 -lc10_cuda\nimport \"C\"\n")
	assert.Contains(t, s, `const buildNote = "nccl: no \"nccl.h\""`)
}

func TestDistPlanAndHash(t *testing.T) {
	inc := t.TempDir()
	in := cpuInstall
	in.IncludeDir = []string{inc}
	p := planDist(in, false, nil)
	assert.False(t, p.c10d)
	assert.Equal(t, []string{"libtorch 1.13.0 ships no c10d headers (built without USE_DISTRIBUTED)"}, p.notes)
	h1, err := p.hash(in)
	require.NoError(t, err)

	c10d := filepath.Join(inc, "torch", "csrc", "distributed", "c10d")
	require.NoError(t, os.MkdirAll(c10d, 0o755))
	for _, f := range []string{"TCPStore.hpp", "ProcessGroupGloo.hpp", "ProcessGroupNCCL.hpp"} {
		require.NoError(t, os.WriteFile(filepath.Join(c10d, f), nil, 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(inc, "gloo"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(inc, "gloo", "algorithm.h"), nil, 0o644))
	p = planDist(in, false, nil)
	assert.True(t, p.c10d)
	assert.Equal(t, inc, p.glooInc, "the install's own gloo headers first")
	assert.Empty(t, p.notes)
	h2, err := p.hash(in)
	require.NoError(t, err)
	assert.NotEqual(t, h1, h2, "finding the headers changes the hash, so setup rebuilds")

	cu := in
	cu.CUDA = true
	cu.Root = filepath.Join(t.TempDir(), "torch")
	for _, env := range []string{"NCCL_HOME", "NCCL_ROOT", "NCCL_INCLUDE_DIR", "CUDA_HOME", "CUDA_PATH"} {
		t.Setenv(env, "")
	}
	p = planDist(cu, false, nil)
	if p.ncclInc == "" {
		assert.Contains(t, strings.Join(p.notes, "; "), "nccl: no nccl.h")
	}
	pip := filepath.Join(filepath.Dir(cu.Root), "nvidia", "nccl", "include")
	require.NoError(t, os.MkdirAll(pip, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(pip, "nccl.h"), nil, 0o644))
	p = planDist(cu, false, nil)
	assert.Equal(t, pip, p.ncclInc, "pip's nvidia/nccl/include beside torch")
}

func TestDistStateSummary(t *testing.T) {
	assert.Equal(t, "gloo", DistState{Backends: []string{"gloo"}}.Summary())
	assert.Equal(t, "gloo,nccl", DistState{Backends: []string{"gloo", "nccl"}}.Summary())
	assert.Equal(t, "none (gloo: no gloo headers)", DistState{Note: "gloo: no gloo headers"}.Summary())
}

// TestInstallDistWithoutBackends builds the package a libtorch without
// c10d gets (seconds: it includes no c10d header) and checks that it is
// complete: the library, the Go files, the source moved out of cgo's way.
func TestInstallDistWithoutBackends(t *testing.T) {
	in, err := Detect(DetectOptions{})
	if err != nil {
		t.Skipf("no libtorch: %v", err)
	}
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++")
	}
	dir := t.TempDir()
	p := distPlan{notes: []string{"test: no c10d"}}
	hash, err := p.hash(in)
	require.NoError(t, err)
	st, err := installDist(dir, in, p, hash, "g++", t.Logf)
	require.NoError(t, err)
	assert.Empty(t, st.Backends)
	assert.Equal(t, "test: no c10d", st.Note)
	assert.True(t, distCurrent(dir, hash))
	for _, f := range []string{"bbdist.go", "bbdist.h", "cgo_flags.go", distLib, "src/bbdist.cpp"} {
		assert.FileExists(t, filepath.Join(dir, DistDir, f))
	}
	for _, f := range []string{"bbdist.cpp", "bbdist.o", "check", "check.c"} {
		assert.NoFileExists(t, filepath.Join(dir, DistDir, f), "cgo would compile a .cpp left here")
	}
	g, err := os.ReadFile(filepath.Join(dir, DistDir, "bbdist.go"))
	require.NoError(t, err)
	assert.Contains(t, string(g), `const Version = "`+hash+`"`)
	assert.NotContains(t, string(g), "{{")
	c, err := os.ReadFile(filepath.Join(dir, DistDir, "cgo_flags.go"))
	require.NoError(t, err)
	assert.Contains(t, string(c), `const buildNote = "test: no c10d"`)
	assert.False(t, distCurrent(dir, "0000000000000000"))
}

func TestFirstLine(t *testing.T) {
	assert.Equal(t, "bbdist.cpp:3:1: error: boom", firstLine("In file included from x\nbbdist.cpp:3:1: error: boom\nmore"))
	assert.Equal(t, "plain", firstLine("\nplain\nsecond"))
}

// markDistCurrent writes a stand-in bbdist package into the copy at dir
// that ensureDist takes for current (so that a test of the rest of
// Prepare does not compile the c10d headers) and returns its state.
func markDistCurrent(t *testing.T, dir string, in Install) DistState {
	t.Helper()
	hash, err := planDist(in, false, nil).hash(in)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, DistDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, DistDir, "bbdist.go"), []byte("package bbdist\n\nconst Version = \""+hash+"\"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, DistDir, distLib), nil, 0o644))
	return DistState{Hash: hash, Backends: []string{"gloo"}}
}

// TestEnsureDistInstallsOnce: ensureDist builds the package when missing
// or out of date and leaves a current one alone. The install has no c10d
// headers (an include dir with only torch/version.h), so the build takes
// seconds.
func TestEnsureDistInstallsOnce(t *testing.T) {
	det, err := Detect(DetectOptions{})
	if err != nil {
		t.Skipf("no libtorch: %v", err)
	}
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++")
	}
	ver := findDir(det.IncludeDir, filepath.Join("torch", "version.h"))
	require.NotEmpty(t, ver)
	b, err := os.ReadFile(filepath.Join(ver, "torch", "version.h"))
	require.NoError(t, err)
	inc := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(inc, "torch"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(inc, "torch", "version.h"), b, 0o644))
	in := det
	in.IncludeDir = []string{inc}

	dir := t.TempDir()
	var st State
	done, err := ensureDist(dir, in, &st, "g++", false, t.Logf)
	require.NoError(t, err)
	assert.True(t, done)
	assert.Empty(t, st.Dist.Backends)
	assert.Contains(t, st.Dist.Note, "ships no c10d headers")
	done, err = ensureDist(dir, in, &st, "g++", false, t.Logf)
	require.NoError(t, err)
	assert.False(t, done, "current: nothing to do")
	require.NoError(t, os.Remove(filepath.Join(dir, DistDir, distLib)))
	done, err = ensureDist(dir, in, &st, "g++", false, t.Logf)
	require.NoError(t, err)
	assert.True(t, done, "library missing: rebuilt")
}
