package bert

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
)

func f32Bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func f64Bytes(v ...float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func u16Bytes(v ...uint16) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], x)
	}
	return b
}

func TestNonFinite(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, tc := range []struct {
		name     string
		t        safetensors.Tensor
		nan, inf int64
	}{
		{"F32 finite, extremes included", safetensors.Tensor{DType: safetensors.F32, Data: f32Bytes(0, -0, 1, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32)}, 0, 0},
		{"F32 NaN and ±Inf", safetensors.Tensor{DType: safetensors.F32, Data: f32Bytes(1, float32(nan), float32(inf), float32(-inf), 2)}, 1, 2},
		{"F64", safetensors.Tensor{DType: safetensors.F64, Data: f64Bytes(math.MaxFloat64, nan, -inf)}, 1, 1},
		// F16: 0x7c00 +Inf, 0xfc00 -Inf, 0x7e00 NaN, 0x7bff 65504 (largest finite).
		{"F16", safetensors.Tensor{DType: safetensors.F16, Data: u16Bytes(0x7c00, 0xfc00, 0x7e00, 0x7bff, 0x3c00)}, 1, 2},
		// BF16: 0x7f80 +Inf, 0x7fc0 NaN, 0x7f7f largest finite, 0xff80 -Inf.
		{"BF16", safetensors.Tensor{DType: safetensors.BF16, Data: u16Bytes(0x7f80, 0x7fc0, 0x7f7f, 0xff80)}, 1, 2},
		{"integers are never non-finite", safetensors.Tensor{DType: safetensors.I32, Data: f32Bytes(float32(nan))}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, i := NonFinite(tc.t)
			assert.Equal(t, tc.nan, n, "NaN")
			assert.Equal(t, tc.inf, i, "Inf")
		})
	}
}

// TestNonFiniteLarge: the chunked, parallel F32 path counts elements at
// chunk edges, in the unrolled rounds and in the tail.
func TestNonFiniteLarge(t *testing.T) {
	const n = 5<<20 + 3 // elements: 20 MiB and a tail of 3
	data := make([]byte, 4*n)
	put := func(i int, v float32) { binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v)) }
	nanIdx := []int{0, 2<<20 - 1, 2 << 20, 4<<20 + 7, n - 1}
	for _, i := range nanIdx {
		put(i, float32(math.NaN()))
	}
	put(3<<20, float32(math.Inf(-1)))
	put(1, math.MaxFloat32)
	nan, inf := NonFinite(safetensors.Tensor{DType: safetensors.F32, Data: data})
	assert.Equal(t, int64(len(nanIdx)), nan)
	assert.Equal(t, int64(1), inf)
}

func TestCheckFinite(t *testing.T) {
	ok := safetensors.Tensor{DType: safetensors.F32, Shape: []int64{2}, Data: f32Bytes(1, 2)}
	bad := safetensors.Tensor{DType: safetensors.F32, Shape: []int64{3}, Data: f32Bytes(float32(math.NaN()), 1, float32(math.Inf(-1)))}
	require.NoError(t, CheckFinite(map[string]safetensors.Tensor{"a": ok}))
	err := CheckFinite(map[string]safetensors.Tensor{"a": ok, "z.weight": bad, "b.bias": bad})
	require.ErrorIs(t, err, ErrNonFinite)
	assert.EqualError(t, err, `non-finite values (NaN or Inf) in "b.bias": 1 NaN, 1 Inf of 3 values; "z.weight": 1 NaN, 1 Inf of 3 values`)

	require.NoError(t, CheckFiniteOutput("logits", []float32{1, -2, math.MaxFloat32}))
	err = CheckFiniteOutput("logits", []float32{1, float32(math.Inf(1))})
	require.ErrorIs(t, err, ErrNonFinite)
	assert.Contains(t, err.Error(), "logits: non-finite values (NaN or Inf): element 1 is +Inf")
}

// poisonCopy copies the fixture directory src to a temporary directory with
// the checkpoint tensor key's element i set to v, and returns the copy.
func poisonCopy(t *testing.T, src, key string, i int, v float32) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range []string{ConfigFile} {
		b, err := os.ReadFile(filepath.Join(src, n))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), b, 0o644))
	}
	w, meta, err := safetensors.ReadFile(filepath.Join(src, SafetensorsFile))
	require.NoError(t, err)
	tt, ok := w[key]
	require.True(t, ok, key)
	require.Equal(t, safetensors.F32, tt.DType)
	data := append([]byte(nil), tt.Data...)
	binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	tt.Data = data
	w[key] = tt
	require.NoError(t, safetensors.WriteFile(filepath.Join(dir, SafetensorsFile), w, meta))
	return dir
}

// TestLoadRefusesNonFinite: a NaN or an Inf in any weight the model uses
// fails every load function with ErrNonFinite naming the tensor; the same
// value in a weight the model ignores (another head) does not matter.
func TestLoadRefusesNonFinite(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tiny := filepath.Join("testdata", "tiny")
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	w, _, err := safetensors.ReadFile(filepath.Join(tiny, "token-classification", SafetensorsFile))
	require.NoError(t, err)
	var encKey string
	for k := range w {
		if strings.HasSuffix(k, "encoder.layer.1.output.dense.weight") {
			encKey = k
		}
	}
	require.NotEmpty(t, encKey)
	for _, tc := range []struct {
		name, dir, key string
		v              float32
		load           func(dir string) error
	}{
		{"token-classification encoder NaN", "token-classification", encKey, nan, func(d string) error {
			_, _, err := LoadForTokenClassification(d, LoadOptions{})
			return err
		}},
		{"token-classification classifier Inf", "token-classification", "classifier.bias", inf, func(d string) error {
			_, _, err := LoadForTokenClassification(d, LoadOptions{})
			return err
		}},
		{"base model embeddings NaN", "base", "embeddings.word_embeddings.weight", nan, func(d string) error {
			_, _, err := LoadModel(d, LoadOptions{})
			return err
		}},
		{"mlm bias -Inf", "mlm", "cls.predictions.bias", -inf, func(d string) error {
			_, _, err := LoadForMaskedLM(d, LoadOptions{})
			return err
		}},
		{"FromPretrained", "mlm", "bert.embeddings.LayerNorm.weight", nan, func(d string) error {
			_, _, err := FromPretrained(d, HeadMaskedLM, LoadOptions{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := poisonCopy(t, filepath.Join(tiny, tc.dir), tc.key, 3, tc.v)
			err := tc.load(dir)
			require.ErrorIs(t, err, ErrNonFinite)
			assert.Contains(t, err.Error(), "bert: load model.safetensors: ")
			assert.Contains(t, err.Error(), `"`+tc.key+`"`)
		})
	}

	t.Run("ignored head is not checked", func(t *testing.T) {
		// The base model ignores the MLM checkpoint's cls.* weights.
		dir := poisonCopy(t, filepath.Join(tiny, "mlm"), "cls.predictions.bias", 0, nan)
		_, rep, err := LoadModel(dir, LoadOptions{AllowNewHead: true}) // the fixture has no pooler
		require.NoError(t, err)
		assert.Contains(t, rep.Ignored, "cls.predictions.bias")
	})
}

// BenchmarkCheckFinite measures the load-time scan on 64 MiB of float32
// weights (mBERT holds 178M parameters, 712 MB).
func BenchmarkCheckFinite(b *testing.B) {
	w := map[string]safetensors.Tensor{"w": {DType: safetensors.F32, Shape: []int64{16 << 20}, Data: make([]byte, 64<<20)}}
	b.SetBytes(64 << 20)
	for b.Loop() {
		if err := CheckFinite(w); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadConfigBOM: a config.json saved with a byte order mark loads.
func TestLoadConfigBOM(t *testing.T) {
	src := filepath.Join("testdata", "tiny", "mlm", ConfigFile)
	b, err := os.ReadFile(src)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), ConfigFile)
	require.NoError(t, os.WriteFile(p, append([]byte("\uFEFF"), b...), 0o644))
	got, err := LoadConfig(p)
	require.NoError(t, err)
	want, err := LoadConfig(src)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
