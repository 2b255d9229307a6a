package torchsetup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const genSample = `// generated
void atg_abs(tensor *out__, tensor self) {
  PROTECT(
    auto outputs__ = torch::abs(*self);
    out__[0] = new torch::Tensor(outputs__);
  )
}

int64_t atg_new_op(tensor self,
                   int64_t dim) {
  PROTECT(
    return torch::new_op(*self, dim);
  )
  return 0;
}

void atg_relu(tensor *out__, tensor self) {
  PROTECT(
    auto outputs__ = torch::relu(*self);
    out__[0] = new torch::Tensor(outputs__);
  )
}
`

func TestStubFunctions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "torch_api_generated.cpp.h")
	require.NoError(t, os.WriteFile(p, []byte(genSample), 0o644))
	// line 11 is inside atg_new_op's body, line 10 its second signature line
	names, err := stubFunctions(p, map[int]bool{11: true, 10: true}, "1.13")
	require.NoError(t, err)
	assert.Equal(t, []string{"atg_new_op"}, names)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	s := string(b)
	assert.Contains(t, s, `throw std::runtime_error("atg_new_op is not available in libtorch 1.13`)
	assert.NotContains(t, s, "torch::new_op")
	assert.Contains(t, s, "torch::abs(*self)", "other wrappers untouched")
	assert.Contains(t, s, "torch::relu(*self)")
	assert.Contains(t, s, "  return 0;\n}", "the return after PROTECT stays")
}

func TestLibGoFlags(t *testing.T) {
	cpu := Install{Source: "debian", IncludeDir: []string{"/usr/include", "/usr/include/torch/csrc/api/include"}, LibDir: "/usr/lib/x86_64-linux-gnu", Version: "1.13.0", CXX11ABI: 1}
	s := libGo(cpu)
	assert.Contains(t, s, "-L/usr/lib/x86_64-linux-gnu -Wl,-rpath,/usr/lib/x86_64-linux-gnu -ltorch -ltorch_cpu -lc10 -lstdc++")
	assert.NotContains(t, s, "cuda")
	assert.Contains(t, s, "-D_GLIBCXX_USE_CXX11_ABI=1")
	assert.Contains(t, s, "-std=c++17")
	assert.True(t, strings.HasSuffix(s, "// #cgo CXXFLAGS: -std=c++17 -I${SRCDIR} -O1 -g0 -w -D_GLIBCXX_USE_CXX11_ABI=1 -I/usr/include -I/usr/include/torch/csrc/api/include\nimport \"C\"\n"),
		"no comment between the directives and import \"C\"")

	gpu := Install{Source: "python", IncludeDir: []string{"/t/include"}, LibDir: "/t/lib", Version: "2.11.0", CXX11ABI: 1, CUDA: true}
	s = libGo(gpu)
	assert.Contains(t, s, "-Wl,--no-as-needed -lstdc++ -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda")
	assert.NotEqual(t, hashKey(cpu), hashKey(gpu))
	assert.Equal(t, "2.11", gpu.MajorMinor())
}

func TestFinishReadsVersionAndCUDA(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "include", "torch"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "lib"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "include", "torch", "version.h"),
		[]byte("#define TORCH_VERSION_MAJOR 2\n#define TORCH_VERSION_MINOR 11\n#define TORCH_VERSION_PATCH 0\n"), 0o644))
	_, err := fromRoot("LIBTORCH", root)
	require.ErrorContains(t, err, "no libtorch.so")
	for _, f := range []string{"libtorch.so", "libtorch_cuda.so"} {
		require.NoError(t, os.WriteFile(filepath.Join(root, "lib", f), nil, 0o644))
	}
	in, err := fromRoot("LIBTORCH", root)
	require.NoError(t, err)
	assert.Equal(t, "2.11.0", in.Version)
	assert.True(t, in.CUDA)
	assert.Equal(t, 1, in.CXX11ABI, "unreadable libc10 defaults to the new ABI")
}

func TestPatchGoSide(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "ts"), 0o755))
	src := "package ts\n\nfunc newTensor() {\n\tx.d = new(bigStruct)\n\n\truntime.SetFinalizer(x, freeCTensor)\n\n}\n\tfloat64Ts.MustCopyData(vec, numel)\n\t// float64Ts.MustDrop()\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ts", "tensor.go"), []byte(src), 0o644))
	gen := "func(ts *Tensor) Abs_()(err error) { \n  ptr := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))\n  \n    lib.AtgAbs_(ptr, ts.ctensor)\n  ts.ctensor = *ptr\n  \n  return err\n}\n" +
		"func(ts *Tensor) Two()(a, b *Tensor, err error) { \n  ctensorPtr0 := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ts", "tensor-generated.go"), []byte(gen), 0o644))
	must := "package ts\n\nimport (\n  \"log\"\n)\n\nfunc MustZeros() (retVal *Tensor) {\n  retVal, err := Zeros()\n  if err != nil { log.Fatal(err) }\n  return retVal\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ts", "must-tensor-generated.go"), []byte(must), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ts", "patch.go"), []byte("package ts\n\nimport \"log\"\n\nfunc f() {\n\tlog.Fatal(err)\n}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ts", "patch_test.go"), []byte("package ts\n\nfunc g() {\n\tlog.Fatal(err)\n}\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "nn"), 0o755))
	vs := "package nn\n\nimport (\n\t\"log\"\n)\n\nfunc Sub() {\n\t\tlog.Fatalf(\"Path.Sub() failed: %v\\n\", x)\n\t\tlog.Fatal(\"not reachable\")\n\t\tlog.Fatal(err)\n}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nn", "varstore.go"), []byte(vs), 0o644))
	plain := "package nn\n\n// \"log\"\nfunc h() {}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nn", "linear.go"), []byte(plain), 0o644))

	// Without the Must* wrappers' log.Fatal(err) the sources are not gotch's.
	require.ErrorContains(t, patchGoSide(dir), "no log.Fatal(err)", "tensor.go has none yet")
	b, _ := os.ReadFile(filepath.Join(dir, "ts", "tensor.go"))
	assert.Equal(t, src, string(b), "a failed check writes nothing")
	src = strings.Replace(src, "package ts\n", "package ts\n\nimport (\n\t\"log\"\n)\n", 1) + "\tif err != nil {\n\t\tlog.Fatal(err)\n\t}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ts", "tensor.go"), []byte(src), 0o644))
	require.NoError(t, patchGoSide(dir))
	g, _ := os.ReadFile(filepath.Join(dir, "ts", "tensor-generated.go"))
	assert.Contains(t, string(g), "C.malloc(16)))\n  defer C.free(unsafe.Pointer(ptr))\n", "output slot sized and freed")
	assert.Contains(t, string(g), "C.malloc(256)))\n  defer C.free(unsafe.Pointer(ctensorPtr0))\n", "multi-output slots sized and freed")
	assert.Contains(t, string(g), "\n  lib.AtFree(ts.ctensor)\n  ts.ctensor = *ptr\n", "old in-place handle freed")
	assert.NotContains(t, string(g), "malloc(0)")
	b, _ = os.ReadFile(filepath.Join(dir, "ts", "tensor.go"))
	assert.Contains(t, string(b), "if UseFinalizer {\n\t\truntime.SetFinalizer(x, freeCTensor)")
	assert.Contains(t, string(b), "\tfloat64Ts.MustDrop()")

	// log.Fatal becomes a panic that torchutil.Recover can catch.
	m, _ := os.ReadFile(filepath.Join(dir, "ts", "must-tensor-generated.go"))
	assert.Contains(t, string(m), "if err != nil { panic(err) }")
	assert.Contains(t, string(m), "\nvar _ = log.Printf\n", "the log import stays used")
	assert.Contains(t, string(b), "\t\tpanic(err)\n")
	assert.Contains(t, string(b), "\nvar _ = log.Printf\n", "tensor.go imports log")
	n, _ := os.ReadFile(filepath.Join(dir, "nn", "varstore.go"))
	assert.Contains(t, string(n), "\t\tbiobertptFatalf(\"Path.Sub() failed: %v\\n\", x)\n\t\tbiobertptFatal(\"not reachable\")\n\t\tpanic(err)\n")
	for _, f := range []string{"ts/must-tensor-generated.go", "ts/tensor.go", "ts/patch.go", "nn/varstore.go"} {
		g, _ := os.ReadFile(filepath.Join(dir, f))
		assert.NotContains(t, string(g), "log.Fatal", f)
	}
	l, _ := os.ReadFile(filepath.Join(dir, "nn", "linear.go"))
	assert.Equal(t, plain, string(l), "files without log.Fatal are untouched")
	pt, _ := os.ReadFile(filepath.Join(dir, "ts", "patch_test.go"))
	assert.Contains(t, string(pt), "log.Fatal(err)", "tests are not rewritten")
	for _, pkg := range []string{"ts", "nn"} {
		h, err := os.ReadFile(filepath.Join(dir, pkg, "biobertpt_patch.go"))
		require.NoError(t, err)
		assert.Contains(t, string(h), "package "+pkg+"\n")
		assert.Contains(t, string(h), "func biobertptFatalf(format string, v ...any) {")
		if pkg == "ts" {
			assert.Contains(t, string(h), "const MustPanics = true\n")
		}
	}
	require.Error(t, patchGoSide(dir), "a second patch of patched sources must fail loudly, not double-patch")
}
