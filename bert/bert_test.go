package bert

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"testing"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func goldenKeys(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.Fields(string(b))
}

// TestGoldenKeys: the sorted parameter names of a fresh model equal the
// HF state-dict keys listed by gen_fixtures.py (decoder weight/bias aside,
// which are tied and not separate parameters here).
func TestGoldenKeys(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c, err := LoadConfig(filepath.Join("testdata", "tiny", "mlm", ConfigFile))
	require.NoError(t, err)
	mlm, err := NewForMaskedLM(c, gotch.CPU)
	require.NoError(t, err)
	want := []string{}
	for _, k := range goldenKeys(t, filepath.Join("testdata", "tiny", "mlm", "keys.txt")) {
		if k != "cls.predictions.decoder.weight" && k != "cls.predictions.decoder.bias" {
			want = append(want, k)
		}
	}
	assert.Equal(t, want, sortedNames(mlm.Parameters()))
	vars := []string{}
	for k := range mlm.VarStore().Variables() {
		vars = append(vars, k)
	}
	sort.Strings(vars)
	assert.Equal(t, want, vars, "VarStore names are the HF keys")

	tok, err := NewForTokenClassification(c, gotch.CPU)
	require.NoError(t, err)
	assert.Equal(t, goldenKeys(t, filepath.Join("testdata", "tiny", "token-classification", "keys.txt")), sortedNames(tok.Parameters()))
	base, err := NewModel(c, gotch.CPU)
	require.NoError(t, err)
	assert.Equal(t, goldenKeys(t, filepath.Join("testdata", "tiny", "base", "keys.txt")), sortedNames(base.Parameters()))
	assert.Equal(t, int64(len(base.Parameters())), int64(len(base.VarStore().Variables())))
}

func snapshot(t *testing.T, params []Param) map[string]safetensors.Tensor {
	t.Helper()
	out := map[string]safetensors.Tensor{}
	for _, p := range params {
		st, err := tensors.ToSafetensors(p.Tensor)
		require.NoError(t, err)
		out[p.Name] = st
	}
	return out
}

func TestSaveLoadRoundTrip(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, head := range []Head{HeadBase, HeadMaskedLM, HeadTokenClassification} {
		t.Run(string(head), func(t *testing.T) {
			m, _, err := FromPretrained(filepath.Join("testdata", "tiny", string(head)), head, LoadOptions{})
			require.NoError(t, err)
			dir := filepath.Join(t.TempDir(), "out")
			require.NoError(t, m.Save(dir))
			m2, rep, err := FromPretrained(dir, head, LoadOptions{})
			require.NoError(t, err)
			assert.Empty(t, rep.Renamed)
			assert.Equal(t, snapshot(t, m.Parameters()), snapshot(t, m2.Parameters()))

			// the saved file has exactly HF's keys (decoder weight dropped as HF does)
			w, meta, err := safetensors.ReadFile(filepath.Join(dir, SafetensorsFile))
			require.NoError(t, err)
			assert.Equal(t, "pt", meta["format"])
			want := []string{}
			for _, k := range goldenKeys(t, filepath.Join("testdata", "tiny", string(head), "keys.txt")) {
				if k != "cls.predictions.decoder.weight" {
					want = append(want, k)
				}
			}
			assert.Equal(t, want, sortedKeys(w))
			for k, v := range w {
				assert.Equal(t, safetensors.F32, v.DType, k)
			}

			// config.json: same values as the fixture's, HF key names
			got, err := LoadConfig(filepath.Join(dir, ConfigFile))
			require.NoError(t, err)
			orig, err := LoadConfig(filepath.Join("testdata", "tiny", string(head), ConfigFile))
			require.NoError(t, err)
			assert.Equal(t, orig, got)
			var raw map[string]any
			b, _ := os.ReadFile(filepath.Join(dir, ConfigFile))
			require.NoError(t, json.Unmarshal(b, &raw))
			for _, k := range []string{"vocab_size", "hidden_act", "layer_norm_eps", "architectures", "model_type", "classifier_dropout"} {
				assert.Contains(t, raw, k)
			}
			entries, _ := os.ReadDir(dir)
			assert.Len(t, entries, 2, "only config.json and model.safetensors, no temp files")
		})
	}
}

func TestMLMLossMatchesFullProjection(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := readExpected(t, "tiny")
	m, _, err := LoadForMaskedLM(filepath.Join("testdata", "tiny", "mlm"), LoadOptions{})
	require.NoError(t, err)
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	labels := int64Tensor(t, s, e.MLMLabels)
	loss, err := m.Loss(in, labels, false)
	require.NoError(t, err)
	logits, err := m.Forward(in, false)
	require.NoError(t, err)
	s.Add(logits)
	flat := s.Add(logits.MustView([]int64{-1, int64(m.Config().VocabSize)}, false))
	full := s.Add(flat.MustCrossEntropyLoss(s.Add(labels.MustView([]int64{-1}, false)), ts.None, 1, IgnoreIndex, 0, false))
	assert.InDelta(t, full.MustFloat64Value([]int64{}), s.Add(loss).MustFloat64Value([]int64{}), 1e-6)
}

func TestTokenLossClassWeights(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := readExpected(t, "tiny")
	m, _, err := LoadForTokenClassification(filepath.Join("testdata", "tiny", "token-classification"), LoadOptions{})
	require.NoError(t, err)
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	labels := int64Tensor(t, s, e.TokenLabels)
	ones, err := m.Loss(in, labels, false, []float64{1, 1, 1, 1, 1})
	require.NoError(t, err)
	assert.InDelta(t, e.TokenLoss, s.Add(ones).MustFloat64Value([]int64{}), 1e-5, "unit weights = unweighted")

	// weighted mean by hand: Σ w[y]·CE / Σ w[y]
	w := []float64{0.5, 2, 1, 3, 0.25}
	got, err := m.Loss(in, labels, false, w)
	require.NoError(t, err)
	logits, err := m.Forward(in, false)
	require.NoError(t, err)
	lv, _ := values(t, s.Add(logits))
	var num, den float64
	L := len(w)
	for i, y := range flatten(e.TokenLabels) {
		if y == IgnoreIndex {
			continue
		}
		row := lv[i*L : (i+1)*L]
		mx := row[0]
		for _, v := range row {
			mx = math.Max(mx, v)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(v - mx)
		}
		ce := -(row[y] - mx - math.Log(z))
		num += w[y] * ce
		den += w[y]
	}
	assert.InDelta(t, num/den, s.Add(got).MustFloat64Value([]int64{}), 1e-5)
	_, err = m.Loss(in, labels, false, []float64{1})
	assert.ErrorContains(t, err, "1 class weights for 5 labels")
}

func flatten(rows [][]int64) []int64 {
	var out []int64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// TestNoLeaks: forward, Loss, LossAt and backward free every temporary, in
// fp32 and in bf16 (whose weight casts included), in eval and train mode.
func TestNoLeaks(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	e := readExpected(t, "tiny")
	mlm, _, err := LoadForMaskedLM(filepath.Join("testdata", "tiny", "mlm"), LoadOptions{})
	require.NoError(t, err)
	tok, _, err := LoadForTokenClassification(filepath.Join("testdata", "tiny", "token-classification"), LoadOptions{})
	require.NoError(t, err)
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	mlmLabels := int64Tensor(t, s, e.MLMLabels)
	tokLabels := int64Tensor(t, s, e.TokenLabels)
	pos, lab := maskedAt(t, s, e.MLMLabels)
	for _, p := range []Precision{PrecisionFP32, PrecisionBF16} {
		require.NoError(t, mlm.SetPrecision(p))
		require.NoError(t, tok.SetPrecision(p))
		for _, train := range []bool{false, true} {
			before := len(ts.ExistingTensors)
			for _, f := range []func() (*ts.Tensor, error){
				func() (*ts.Tensor, error) { return mlm.Forward(in, train) },
				func() (*ts.Tensor, error) { return tok.Forward(in, train) },
				func() (*ts.Tensor, error) { return mlm.Bert.Forward(in, train) },
			} {
				out, err := f()
				require.NoError(t, err)
				out.MustDrop()
			}
			assert.Equal(t, before, len(ts.ExistingTensors), "%s forward train=%v", p, train)
			for _, f := range []func() (*ts.Tensor, error){
				func() (*ts.Tensor, error) { return mlm.Loss(in, mlmLabels, train) },
				func() (*ts.Tensor, error) { return mlm.LossAt(in, pos, lab, train) },
				func() (*ts.Tensor, error) { return tok.Loss(in, tokLabels, train, nil) },
				func() (*ts.Tensor, error) { return tok.Loss(in, tokLabels, train, []float64{1, 2, 1, 2, 1}) },
			} {
				loss, err := f()
				require.NoError(t, err)
				require.NoError(t, loss.Backward())
				loss.MustDrop()
			}
			assert.Equal(t, before, len(ts.ExistingTensors), "%s loss+backward train=%v", p, train)
		}
	}
	require.NoError(t, mlm.SetPrecision(PrecisionFP32))
	// the check can fail: an undropped output shows up
	for _, f := range []func() (*ts.Tensor, error){
		func() (*ts.Tensor, error) { return mlm.Forward(in, false) },
		func() (*ts.Tensor, error) { return mlm.LossAt(in, pos, lab, false) },
	} {
		before := len(ts.ExistingTensors)
		out, err := f()
		require.NoError(t, err)
		assert.Equal(t, before+1, len(ts.ExistingTensors))
		out.MustDrop()
	}

	// backward reached the tied embedding through both uses
	g, err := mlm.Bert.emb.word.Grad(false)
	require.NoError(t, err)
	defer g.MustDrop()
	assert.True(t, g.MustDefined())
}

func TestDropoutOnlyWhenTraining(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := readExpected(t, "tiny")
	m, _, err := LoadModel(filepath.Join("testdata", "tiny", "base"), LoadOptions{})
	require.NoError(t, err)
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	run := func(train bool) []float64 {
		out, err := m.Forward(in, train)
		require.NoError(t, err)
		v, _ := values(t, s.Add(out))
		return v
	}
	a, b := run(false), run(false)
	assert.Equal(t, a, b, "eval is deterministic")
	torchutil.ManualSeed(1)
	c := run(true)
	assert.NotEqual(t, a, c, "train applies dropout")
}

func TestSDPAMatchesManual(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	e := readExpected(t, "tiny")
	m, _, err := LoadModel(filepath.Join("testdata", "tiny", "base"), LoadOptions{})
	require.NoError(t, err)
	if err := m.SetAttention(AttentionSDPA); err != nil {
		assert.False(t, m.SDPA(), "auto must fall back when SDPA is missing")
		t.Skipf("libtorch has no SDPA (Debian 1.13): %v", err)
	}
	s := tensors.NewScope()
	defer s.Drop()
	in := e.inputs(t, s)
	out, err := m.Forward(in, false)
	require.NoError(t, err)
	fused, _ := values(t, s.Add(out))
	require.NoError(t, m.SetAttention(AttentionManual))
	out, err = m.Forward(in, false)
	require.NoError(t, err)
	manual, _ := values(t, s.Add(out))
	assert.InDeltaSlice(t, manual, fused, 1e-5)
	assert.InDeltaSlice(t, e.LastHidden, fused, 1e-5)
}

func TestInitialisation(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := TinyConfig()
	c.VocabSize, c.HiddenSize, c.NumAttentionHeads, c.InitializerRange = 2000, 64, 4, 0.05
	torchutil.ManualSeed(3)
	m, err := NewForMaskedLM(c, gotch.CPU)
	require.NoError(t, err)
	byName := map[string]*ts.Tensor{}
	for _, p := range m.Parameters() {
		byName[p.Name] = p.Tensor
		assert.True(t, p.Tensor.MustRequiresGrad(), p.Name)
	}
	word, err := tensors.Float32s(byName["bert.embeddings.word_embeddings.weight"])
	require.NoError(t, err)
	var sum, sq float64
	for _, v := range word[64:] { // row 0 (padding) excluded
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(word) - 64)
	assert.InDelta(t, 0, sum/n, 0.002)
	assert.InDelta(t, 0.05, math.Sqrt(sq/n), 0.002)
	for _, v := range word[:64] {
		require.Zero(t, v, "padding row is zero")
	}
	for name, want := range map[string]float32{"cls.predictions.bias": 0, "bert.encoder.layer.0.attention.self.query.bias": 0,
		"bert.embeddings.LayerNorm.weight": 1, "bert.embeddings.LayerNorm.bias": 0} {
		v, err := tensors.Float32s(byName[name])
		require.NoError(t, err)
		for _, x := range v {
			require.Equal(t, want, x, name)
		}
	}
}

func TestAllowNewHead(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mlmDir := filepath.Join("testdata", "tiny", "mlm")
	labels := []string{"O", "B-X", "I-X"}
	_, _, err := LoadForTokenClassification(mlmDir, LoadOptions{Labels: labels})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `bert: load model.safetensors: missing "classifier.weight", "classifier.bias" (set AllowNewHead`)

	m, rep, err := LoadForTokenClassification(mlmDir, LoadOptions{Labels: labels, AllowNewHead: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"classifier.weight", "classifier.bias"}, rep.Initialized)
	assert.Contains(t, rep.Ignored, "cls.predictions.bias")
	assert.Equal(t, labels, m.Labels())
	assert.Equal(t, map[int]string{0: "O", 1: "B-X", 2: "I-X"}, m.Config().ID2Label)

	// a classifier with another label count is re-initialised only when allowed
	tokDir := filepath.Join("testdata", "tiny", "token-classification")
	_, _, err = LoadForTokenClassification(tokDir, LoadOptions{Labels: labels})
	assert.ErrorContains(t, err, `"classifier.weight": shape [5 32], want [3 32] (3 labels wanted, checkpoint has 5`)
	_, rep, err = LoadForTokenClassification(tokDir, LoadOptions{Labels: labels, AllowNewHead: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"classifier.weight", "classifier.bias"}, rep.Initialized)

	// a base model from an MLM checkpoint: prefix stripped, head ignored,
	// pooler new (as HF's BertModel.from_pretrained), with or without
	// AllowNewHead
	_, rep, err = LoadModel(mlmDir, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"pooler.dense.weight", "pooler.dense.bias"}, rep.Initialized)
	b, rep, err := LoadModel(mlmDir, LoadOptions{AllowNewHead: true})
	require.NoError(t, err)
	assert.True(t, b.HasPooler())
	assert.Contains(t, rep.Renamed, "bert.embeddings.word_embeddings.weight -> embeddings.word_embeddings.weight")
	assert.Equal(t, []string{"pooler.dense.weight", "pooler.dense.bias"}, rep.Initialized)

	// an MLM from a base checkpoint: prefix added, pooler ignored, MLM head missing
	_, _, err = LoadForMaskedLM(filepath.Join("testdata", "tiny", "base"), LoadOptions{})
	assert.ErrorContains(t, err, `missing "cls.predictions.transform.dense.weight"`)
}

func TestLoadReportRules(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// legacy bin: position_ids ignored, decoder tied
	dir := withWeights(t, filepath.Join("testdata", "tiny", "mlm"), "pytorch_model_legacy.bin")
	_, rep, err := LoadForMaskedLM(dir, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, TorchFile), rep.File)
	assert.Equal(t, []string{"bert.embeddings.position_ids"}, rep.Ignored)
	assert.ElementsMatch(t, []string{"cls.predictions.decoder.bias -> cls.predictions.bias",
		"cls.predictions.decoder.weight -> bert.embeddings.word_embeddings.weight"}, rep.Tied)

	// a head's encoder saves as a plain BertModel (no "bert." prefix)
	encDir := t.TempDir()
	ref, _, err := LoadForMaskedLM(filepath.Join("testdata", "tiny", "mlm"), LoadOptions{})
	require.NoError(t, err)
	require.NoError(t, ref.Bert.Save(encDir))
	enc, _, err := safetensors.ReadFile(filepath.Join(encDir, SafetensorsFile))
	require.NoError(t, err)
	assert.Contains(t, enc, "encoder.layer.1.output.LayerNorm.bias")
	assert.NotContains(t, enc, "bert.encoder.layer.1.output.LayerNorm.bias")
	_, rep, err = LoadModel(encDir, LoadOptions{AllowNewHead: true})
	require.NoError(t, err)
	assert.Empty(t, rep.Renamed)

	// TF-style names: no "bert." prefix, gamma/beta, NSP head, decoder.bias only
	w, _, err := safetensors.ReadFile(filepath.Join("testdata", "tiny", "mlm", SafetensorsFile))
	require.NoError(t, err)
	old := map[string]safetensors.Tensor{}
	for k, v := range w {
		k = strings.TrimPrefix(k, "bert.")
		k = strings.Replace(k, "LayerNorm.weight", "LayerNorm.gamma", 1)
		k = strings.Replace(k, "LayerNorm.bias", "LayerNorm.beta", 1)
		if k == "cls.predictions.bias" {
			k = "cls.predictions.decoder.bias"
		}
		old[k] = v
	}
	old["cls.seq_relationship.weight"], _ = safetensors.FromFloat32s(safetensors.F32, []int64{2, 32}, make([]float32, 64))
	dir = t.TempDir()
	require.NoError(t, copyFile(filepath.Join("testdata", "tiny", "mlm", ConfigFile), filepath.Join(dir, ConfigFile)))
	require.NoError(t, safetensors.WriteFile(filepath.Join(dir, SafetensorsFile), old, nil))
	m, rep, err := LoadForMaskedLM(dir, LoadOptions{})
	require.NoError(t, err)
	assert.Contains(t, rep.Renamed, "embeddings.LayerNorm.gamma -> bert.embeddings.LayerNorm.weight")
	assert.Contains(t, rep.Renamed, "cls.predictions.decoder.bias -> cls.predictions.bias")
	assert.Equal(t, []string{"cls.seq_relationship.weight"}, rep.Ignored)
	assert.Equal(t, snapshot(t, ref.Parameters()), snapshot(t, m.Parameters()))
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// TestLoadErrors: each failure names the file and the key.
func TestLoadErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	src := filepath.Join("testdata", "tiny", "mlm")
	w, _, err := safetensors.ReadFile(filepath.Join(src, SafetensorsFile))
	require.NoError(t, err)
	writeWith := func(t *testing.T, edit func(map[string]safetensors.Tensor)) string {
		dir := t.TempDir()
		require.NoError(t, copyFile(filepath.Join(src, ConfigFile), filepath.Join(dir, ConfigFile)))
		m := map[string]safetensors.Tensor{}
		for k, v := range w {
			m[k] = v
		}
		edit(m)
		require.NoError(t, safetensors.WriteFile(filepath.Join(dir, SafetensorsFile), m, map[string]string{"format": "pt"}))
		return dir
	}
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		want []string
	}{
		{"missing dir", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") },
			[]string{"bert: config:", "config.json", "no such file"}},
		{"missing weights", func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, copyFile(filepath.Join(src, ConfigFile), filepath.Join(dir, ConfigFile)))
			return dir
		}, []string{"no model.safetensors or pytorch_model.bin"}},
		{"truncated header", func(t *testing.T) string {
			dir := withWeights(t, src, SafetensorsFile)
			b, _ := os.ReadFile(filepath.Join(dir, SafetensorsFile))
			require.NoError(t, os.WriteFile(filepath.Join(dir, SafetensorsFile), b[:100], 0o644))
			return dir
		}, []string{"model.safetensors", "truncated header"}},
		{"corrupt bin", func(t *testing.T) string {
			dir := withWeights(t, src, "pytorch_model.bin")
			b, _ := os.ReadFile(filepath.Join(dir, TorchFile))
			require.NoError(t, os.WriteFile(filepath.Join(dir, TorchFile), b[:len(b)/2], 0o644))
			return dir
		}, []string{"bert: load", "pytorch_model.bin"}},
		{"wrong dtype", func(t *testing.T) string {
			return writeWith(t, func(m map[string]safetensors.Tensor) {
				v := m["cls.predictions.bias"]
				ids := make([]int64, v.Numel())
				m["cls.predictions.bias"], _ = safetensors.FromInt64s(v.Shape, ids)
			})
		}, []string{`bert: load model.safetensors: "cls.predictions.bias": dtype I64, want a floating-point dtype`}},
		{"shape mismatch", func(t *testing.T) string {
			return writeWith(t, func(m map[string]safetensors.Tensor) {
				m["bert.encoder.layer.1.attention.self.query.weight"], _ = safetensors.FromFloat32s(safetensors.F32, []int64{32, 16}, make([]float32, 512))
			})
		}, []string{`bert: load model.safetensors: "bert.encoder.layer.1.attention.self.query.weight": shape [32 16], want [32 32]`}},
		{"vocab mismatch", func(t *testing.T) string {
			dir := withWeights(t, src, SafetensorsFile)
			c, err := LoadConfig(filepath.Join(dir, ConfigFile))
			require.NoError(t, err)
			c.VocabSize = 120
			require.NoError(t, c.Save(filepath.Join(dir, ConfigFile)))
			return dir
		}, []string{`"bert.embeddings.word_embeddings.weight": shape [100 32], want [120 32] (config.json vocab_size 120, checkpoint has 100 rows)`,
			`"cls.predictions.bias": shape [100], want [120]`}},
		{"missing and unexpected", func(t *testing.T) string {
			return writeWith(t, func(m map[string]safetensors.Tensor) {
				m["bert.encoder.layer.7.output.dense.weight"] = m["bert.encoder.layer.0.output.dense.weight"]
				delete(m, "bert.encoder.layer.0.output.dense.weight")
			})
		}, []string{`missing "bert.encoder.layer.0.output.dense.weight"`, `unexpected "bert.encoder.layer.7.output.dense.weight"`}},
		{"bad config", func(t *testing.T) string {
			dir := withWeights(t, src, SafetensorsFile)
			require.NoError(t, os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"hidden_size": 30, "num_attention_heads": 4}`), 0o644))
			return dir
		}, []string{"bert: config: hidden_size 30 not divisible by num_attention_heads 4", "config.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadForMaskedLM(tc.dir(t), LoadOptions{})
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestInputErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m, err := NewForTokenClassification(TinyConfig(), gotch.CPU)
	require.NoError(t, err)
	s := tensors.NewScope()
	defer s.Drop()
	ids := int64Tensor(t, s, [][]int64{{1, 2, 3}})
	long := make([]int64, 65)
	floatIDs := s.Add(ts.MustOnes([]int64{1, 3}, gotch.Float, gotch.CPU))
	tests := []struct {
		name string
		in   Inputs
		want string
	}{
		{"nil ids", Inputs{}, "InputIDs is nil"},
		{"rank 1", Inputs{InputIDs: s.Add(ids.MustView([]int64{3}, false))}, "input_ids shape [3]"},
		{"float ids", Inputs{InputIDs: floatIDs}, "input_ids dtype Float, want int64"},
		{"too long", Inputs{InputIDs: int64Tensor(t, s, [][]int64{long})}, "length 65 exceeds max_position_embeddings 64"},
		{"id out of vocab", Inputs{InputIDs: int64Tensor(t, s, [][]int64{{1, 100}})}, "input_ids values in [1, 100], want [0, 100)"},
		{"mask shape", Inputs{InputIDs: ids, AttentionMask: int64Tensor(t, s, [][]int64{{1, 1}})}, "attention_mask shape [1 2], want [1 3]"},
		{"mask values", Inputs{InputIDs: ids, AttentionMask: int64Tensor(t, s, [][]int64{{1, 2, 0}})}, "attention_mask values in [0, 2]"},
		{"type values", Inputs{InputIDs: ids, TokenTypeIDs: int64Tensor(t, s, [][]int64{{0, 2, 0}})}, "token_type_ids values in [0, 2], want [0, 2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Forward(tc.in, false)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "bert: inputs: "+tc.want)
		})
	}
	_, err = m.Loss(Inputs{InputIDs: ids}, int64Tensor(t, s, [][]int64{{0, 2, 7}}), false, nil)
	assert.ErrorContains(t, err, "bert: labels outside [0, 2)")
	_, err = m.Loss(Inputs{InputIDs: ids}, int64Tensor(t, s, [][]int64{{0, 1}}), false, nil)
	assert.ErrorContains(t, err, "bert: labels shape [1 2], want [1 3]")
	// defaults: nil mask and types equal explicit ones and zeros
	a, err := m.Forward(Inputs{InputIDs: ids}, false)
	require.NoError(t, err)
	b, err := m.Forward(Inputs{InputIDs: ids, AttentionMask: int64Tensor(t, s, [][]int64{{1, 1, 1}}), TokenTypeIDs: int64Tensor(t, s, [][]int64{{0, 0, 0}})}, false)
	require.NoError(t, err)
	av, _ := values(t, s.Add(a))
	bv, _ := values(t, s.Add(b))
	assert.Equal(t, av, bv)
}

func TestSafetensorsHalfPrecisionLoad(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	src := filepath.Join("testdata", "tiny", "token-classification")
	w, _, err := safetensors.ReadFile(filepath.Join(src, SafetensorsFile))
	require.NoError(t, err)
	for _, dt := range []safetensors.DType{safetensors.BF16, safetensors.F16} {
		t.Run(string(dt), func(t *testing.T) {
			conv := map[string]safetensors.Tensor{}
			for k, v := range w {
				conv[k], err = v.Convert(dt)
				require.NoError(t, err)
			}
			dir := t.TempDir()
			require.NoError(t, copyFile(filepath.Join(src, ConfigFile), filepath.Join(dir, ConfigFile)))
			require.NoError(t, safetensors.WriteFile(filepath.Join(dir, SafetensorsFile), conv, nil))
			m, _, err := LoadForTokenClassification(dir, LoadOptions{})
			require.NoError(t, err)
			for _, p := range m.Parameters() {
				assert.Equal(t, gotch.Float, p.Tensor.DType(), p.Name)
				got, err := tensors.Float32s(p.Tensor)
				require.NoError(t, err)
				want, _ := conv[p.Name].Float32s()
				require.Equal(t, want, got, p.Name)
			}
		})
	}
}

func TestConfigJSON(t *testing.T) {
	in := `{"architectures":["BertForTokenClassification"],"hidden_size":32,"num_attention_heads":4,` +
		`"id2label":{"0":"O","1":"B-X"},"label2id":{"O":0,"B-X":1},"gradient_checkpointing":false,"vocab_size":50,"classifier_dropout":0.2}`
	path := filepath.Join(t.TempDir(), "config.json")
	require.NoError(t, os.WriteFile(path, []byte(in), 0o644))
	c, err := LoadConfig(path)
	require.NoError(t, err)
	assert.Equal(t, 32, c.HiddenSize)
	assert.Equal(t, 50, c.VocabSize)
	assert.Equal(t, 12, c.NumHiddenLayers, "missing keys take BertConfig defaults")
	assert.Equal(t, 1e-12, c.LayerNormEps)
	assert.Equal(t, map[int]string{0: "O", 1: "B-X"}, c.ID2Label)
	require.NotNil(t, c.ClassifierDropout)
	assert.Equal(t, 0.2, *c.ClassifierDropout)
	assert.Equal(t, json.RawMessage("false"), c.Extra["gradient_checkpointing"])
	labels, err := c.Labels()
	require.NoError(t, err)
	assert.Equal(t, []string{"O", "B-X"}, labels)

	out := filepath.Join(t.TempDir(), "c.json")
	require.NoError(t, c.Save(out))
	c2, err := LoadConfig(out)
	require.NoError(t, err)
	assert.Equal(t, c, c2)
	b, _ := os.ReadFile(out)
	assert.Contains(t, string(b), `"gradient_checkpointing": false`)
	assert.Contains(t, string(b), `"0": "O"`)

	bad := []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.HiddenAct = "swish" }, `hidden_act "swish" not supported`},
		{func(c *Config) { c.PositionEmbeddingType = "relative_key" }, `position_embedding_type "relative_key" not supported`},
		{func(c *Config) { c.PadTokenID = 100 }, "pad_token_id 100 outside [0, vocab_size 100)"},
		{func(c *Config) { c.HiddenDropoutProb = 1 }, "hidden_dropout_prob 1 outside [0, 1)"},
		{func(c *Config) { c.ID2Label = map[int]string{0: "O", 2: "X"} }, "id2label ids must be 0..1, found 2"},
		{func(c *Config) { c.LayerNormEps = 0 }, "layer_norm_eps 0 must be positive"},
	}
	for _, tc := range bad {
		c := TinyConfig()
		tc.edit(c)
		assert.ErrorContains(t, c.Validate(), tc.want)
	}
	assert.ErrorContains(t, TinyConfig().SetLabels([]string{"O", "O"}), `label "O" appears twice`)
}

func TestNumParameters(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m, err := NewModel(TinyConfig(), gotch.CPU)
	require.NoError(t, err)
	// word 100·32 + pos 64·32 + type 2·32 + LN 64; per layer 4(32·32+32) + 64 + (32·37+37) + (37·32+32) + 64; pooler 32·32+32
	want := int64(100*32 + 64*32 + 2*32 + 64 + 2*(4*(32*32+32)+64+(32*37+37)+(37*32+32)+64) + 32*32 + 32)
	assert.Equal(t, want, NumParameters(m.Parameters()))
}

func TestResolveDirAndOfflineMiss(t *testing.T) {
	dir := t.TempDir()
	got, err := Resolve(context.Background(), dir, HubOptions{})
	require.NoError(t, err)
	assert.Equal(t, dir, got)
	_, err = Resolve(context.Background(), "org/not-cached", HubOptions{Offline: true, CacheDir: t.TempDir()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bert: ")
}
