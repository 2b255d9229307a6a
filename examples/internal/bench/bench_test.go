package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// tinyOptions is a CPU run of a few milliseconds a step.
func tinyOptions(task string) Options {
	o := DefaultOptions()
	o.Task, o.Config, o.ConfigName = task, bert.TinyConfig(), "tiny"
	o.Batch, o.Seq, o.Steps, o.Warmup = 2, 16, 3, 1
	return o
}

func TestValidate(t *testing.T) {
	long := tinyOptions(TaskNER)
	long.Seq = 65
	tooSmall := tinyOptions(TaskNER)
	tooSmall.Config = bert.TinyConfig()
	tooSmall.Config.VocabSize = 4
	for _, tc := range []struct {
		name string
		mod  func(o *Options)
		want string // "" = valid
	}{
		{"defaults", func(*Options) {}, ""},
		{"mlm bf16", func(o *Options) { o.Task, o.DType = TaskMLM, DTypeBF16 }, ""},
		{"unknown task", func(o *Options) { o.Task = "pos" }, `Task "pos"`},
		{"unknown dtype", func(o *Options) { o.DType = "fp8" }, `DType "fp8"`},
		{"batch 0", func(o *Options) { o.Batch = 0 }, "Batch 0"},
		{"seq 1", func(o *Options) { o.Seq = 1 }, "Seq 1"},
		{"steps 0", func(o *Options) { o.Steps = 0 }, "Steps 0"},
		{"negative warmup", func(o *Options) { o.Warmup = -1 }, "Warmup -1"},
		{"negative soak", func(o *Options) { o.Soak = -1 }, "Soak -1"},
		{"dropout 1", func(o *Options) { o.Dropout = 1 }, "Dropout 1"},
		{"attention", func(o *Options) { o.Attention = "flash" }, `Attention "flash"`},
		{"max memory", func(o *Options) { o.MaxMemoryGiB = 10.5 }, ""},
		{"negative max memory", func(o *Options) { o.MaxMemoryGiB = -1 }, "MaxMemoryGiB -1"},
		{"NaN max memory", func(o *Options) { o.MaxMemoryGiB = math.NaN() }, "MaxMemoryGiB NaN"},
		{"infinite max memory", func(o *Options) { o.MaxMemoryGiB = math.Inf(1) }, "MaxMemoryGiB +Inf"},
		{"qkv", func(o *Options) { o.QKV = "fused" }, ""},
		{"bad qkv", func(o *Options) { o.QKV = "packed" }, `QKV "packed"`},
		{"cuda graph", func(o *Options) { o.CUDAGraph = true }, ""},
		{"cuda graph fp16", func(o *Options) { o.CUDAGraph, o.DType = true, DTypeFP16 }, "loss scaler"},
		{"cuda graph foreach", func(o *Options) { o.CUDAGraph, o.AdamW = true, optim.ImplForeach }, "fused AdamW"},
		{"seq over max positions", func(o *Options) { *o = long }, "exceeds max_position_embeddings 64"},
		{"vocab too small", func(o *Options) { *o = tooSmall }, "vocab_size 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tinyOptions(TaskNER)
			tc.mod(&o)
			err := o.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUsage)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestMakeBatchRecipe(t *testing.T) {
	const batch, seq, vocab = 64, 128, 119547
	ner, err := MakeBatch(TaskNER, batch, seq, vocab, 7)
	require.NoError(t, err)
	mlm, err := MakeBatch(TaskMLM, batch, seq, vocab, 7)
	require.NoError(t, err)
	for _, b := range []*Batch{ner, mlm} {
		require.Len(t, b.InputIDs, batch*seq)
		for row := 0; row < batch; row++ {
			first, last := row*seq, row*seq+seq-1
			if b.Labels[first] == CLS { // MLM may mask [CLS] too, as hf_bench.py
				first = -1
			}
			if b.Labels[last] == SEP {
				last = -1
			}
			if first >= 0 {
				assert.EqualValues(t, CLS, b.InputIDs[first])
			}
			if last >= 0 {
				assert.EqualValues(t, SEP, b.InputIDs[last])
			}
		}
		for i := range b.InputIDs {
			assert.EqualValues(t, 1, b.AttentionMask[i])
			assert.EqualValues(t, 0, b.TokenTypeIDs[i])
			id := b.InputIDs[i]
			require.True(t, id == CLS || id == SEP || id == MASK || (id >= FirstWord && id < vocab), "id %d", id)
		}
	}
	for _, l := range ner.Labels {
		require.True(t, l >= 0 && l < NumLabels, "label %d", l)
	}
	assert.Equal(t, batch*seq, ner.Labelled())
	for i, l := range mlm.Labels {
		if l == -100 {
			assert.NotEqualValues(t, MASK, mlm.InputIDs[i])
			continue
		}
		assert.EqualValues(t, MASK, mlm.InputIDs[i]) // the label is the replaced id
		require.True(t, l == CLS || l == SEP || (l >= FirstWord && l < vocab), "label %d", l)
	}
	frac := float64(mlm.Labelled()) / float64(batch*seq)
	assert.InDelta(t, MaskProb, frac, 0.01) // 8192 draws: σ ≈ 0.004

	again, err := MakeBatch(TaskMLM, batch, seq, vocab, 7)
	require.NoError(t, err)
	assert.Equal(t, mlm, again, "same seed, same batch")
	other, err := MakeBatch(TaskMLM, batch, seq, vocab, 8)
	require.NoError(t, err)
	assert.NotEqual(t, mlm.InputIDs, other.InputIDs)
}

func TestMakeBatchSmallVocab(t *testing.T) {
	b, err := MakeBatch(TaskMLM, 1, 2, 100, 3)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, b.Labelled(), 1, "never a batch without a masked position")
	n, err := MakeBatch(TaskNER, 3, 10, 100, 3)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n.InputIDs[0])
	assert.EqualValues(t, 2, n.InputIDs[9])
	for _, id := range n.InputIDs {
		assert.True(t, id >= 1 && id < 100)
	}
	_, err = MakeBatch("pos", 1, 2, 100, 0)
	assert.ErrorIs(t, err, ErrUsage)
	_, err = MakeBatch(TaskNER, 1, 1, 100, 0)
	assert.ErrorIs(t, err, ErrUsage)
}

func TestResolveConfig(t *testing.T) {
	for _, tc := range []struct {
		name           string
		vocab, hidden  int
		layers, labelN string
	}{
		{"mbert", 119547, 768, "12", "mbert"},
		{"MBERT", 119547, 768, "12", "mbert"},
		{"small", 119547, 512, "4", "small"},
		{"tiny", 100, 32, "2", "tiny"},
	} {
		c, label, err := ResolveConfig(tc.name)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.vocab, c.VocabSize, tc.name)
		assert.Equal(t, tc.hidden, c.HiddenSize, tc.name)
		assert.Equal(t, tc.layers, fmt.Sprint(c.NumHiddenLayers), tc.name)
		assert.Equal(t, tc.labelN, label, tc.name)
	}
	m := MBERTConfig()
	assert.Equal(t, []any{12, 3072, 512, 2, "gelu", 1e-12, 0, 0.1, 0.1},
		[]any{m.NumAttentionHeads, m.IntermediateSize, m.MaxPositionEmbeddings, m.TypeVocabSize, m.HiddenAct, m.LayerNormEps, m.PadTokenID, m.HiddenDropoutProb, m.AttentionProbsDropoutProb})

	dir := t.TempDir()
	c := bert.TinyConfig()
	c.NumHiddenLayers = 1
	require.NoError(t, c.Save(filepath.Join(dir, "config.json")))
	for _, p := range []string{dir, filepath.Join(dir, "config.json")} {
		got, label, err := ResolveConfig(p)
		require.NoError(t, err)
		assert.Equal(t, 1, got.NumHiddenLayers)
		assert.Equal(t, filepath.Join(dir, "config.json"), label)
	}
	_, _, err := ResolveConfig(filepath.Join(dir, "missing.json"))
	assert.ErrorContains(t, err, "want mbert, small, tiny or a config.json")
}

func TestRunTinyCPU(t *testing.T) {
	for _, task := range []string{TaskNER, TaskMLM} {
		t.Run(task, func(t *testing.T) {
			before := len(ts.ExistingTensors)
			res, err := Run(tinyOptions(task))
			require.NoError(t, err)
			assert.Equal(t, before, len(ts.ExistingTensors), "Run drops every tensor it creates")

			assert.Equal(t, task, res.Task)
			assert.Equal(t, []int{2, 16, 3, 1}, []int{res.Batch, res.Seq, res.Steps, res.Warmup})
			assert.Equal(t, "fp32", res.DType)
			assert.Equal(t, "highest", res.MatmulPrecision)
			assert.Greater(t, res.MsPerStep, 0.0)
			assert.InEpsilon(t, 2*16/(res.MsPerStep/1000), res.TokensPerS, 1e-3)
			require.NotNil(t, res.PeakMemGiB)
			assert.Greater(t, *res.PeakMemGiB, 0.0)
			assert.Contains(t, []string{PeakHostRSS, PeakHostRSSTotal}, res.PeakMemKind)
			assert.Nil(t, res.PeakReservedGiB)
			assert.Nil(t, res.GPUProcessMemGiB)
			assert.Contains(t, res.Device, "cpu")
			assert.Equal(t, "tiny", res.Config)
			assert.Equal(t, 0.1, res.Dropout)
			assert.Contains(t, []string{"sdpa", "manual"}, res.AttnUsed)
			require.NotNil(t, res.LastLoss)
			assert.Greater(t, *res.LastLoss, 0.0)
			assert.Nil(t, res.Soak)
			want := map[string]int64{TaskNER: 19845, TaskMLM: 20174}[task] // tiny: embeddings, 2 layers, head
			assert.Equal(t, want, res.NParams)
			assert.Equal(t, "adamw_biobertpt_foreach", res.Optim, "auto on the CPU")
		})
	}
}

// TestRunAdamWImpls runs each AdamW kernel with a large learning rate; with
// the same seed and batch the last losses agree (the kernels compute the
// same update) and differ from a run without updates.
func TestRunAdamWImpls(t *testing.T) {
	losses := map[string]float64{}
	for _, impl := range []string{"single-tensor", "foreach", "none"} {
		o := tinyOptions(TaskNER)
		o.Dropout = 0 // deterministic forward
		o.LR = 0.05
		o.Steps = 5
		if impl == "none" {
			o.LR = 0
		} else {
			o.AdamW = impl
		}
		res, err := Run(o)
		require.NoError(t, err, impl)
		if impl != "none" {
			assert.Equal(t, "adamw_biobertpt_"+impl, res.Optim)
		}
		require.NotNil(t, res.LastLoss)
		losses[impl] = *res.LastLoss
	}
	t.Logf("last losses: %v", losses)
	assert.InDelta(t, losses["single-tensor"], losses["foreach"], 2e-4)
	assert.Greater(t, math.Abs(losses["foreach"]-losses["none"]), 0.05, "the updates change the loss")

	o := tinyOptions(TaskNER)
	o.AdamW = "lamb"
	assert.ErrorIs(t, o.Validate(), ErrUsage)
	o.AdamW = "fused"
	_, err := Run(o)
	if bbshim.HasFusedAdamW() {
		// torch >= 2.0: a CPU kernel exists from 2.4 on
		t.Logf("fused on CPU: %v", err)
	} else {
		assert.ErrorContains(t, err, "Impl fused needs libtorch >= 2.0")
	}
}

// TestRunJSONFields checks that a Result carries every field of
// hf_bench.py's JSON line, in its order.
func TestRunJSONFields(t *testing.T) {
	res, err := Run(tinyOptions(TaskNER))
	require.NoError(t, err)
	b, err := json.Marshal(res)
	require.NoError(t, err)
	hf := []string{"task", "batch", "seq", "dtype", "attn", "ms_per_step", "tokens_per_s", "peak_mem_gib", "device",
		"peak_reserved_gib", "steps", "warmup", "dropout", "optim", "matmul_precision", "attn_used", "n_params", "last_loss"}
	dec := json.NewDecoder(bytes.NewReader(b))
	_, err = dec.Token() // {
	require.NoError(t, err)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var v json.RawMessage
		require.NoError(t, dec.Decode(&v))
	}
	require.GreaterOrEqual(t, len(keys), len(hf))
	assert.Equal(t, hf, keys[:len(hf)])
}

func TestRunDTypes(t *testing.T) {
	o := tinyOptions(TaskNER)
	o.DType = DTypeTF32
	_, err := Run(o)
	require.Error(t, err)
	if bbshim.CUDABuild() {
		assert.ErrorContains(t, err, "TF32 applies to CUDA matmuls only")
	} else {
		assert.ErrorIs(t, err, ErrNoTF32)
		assert.ErrorContains(t, err, "tf32 needs a CUDA libtorch")
	}

	if !bbshim.CUDABuild() {
		_, err = bbshim.SetAllowTF32(true)
		assert.ErrorContains(t, err, "tf32 needs a CUDA libtorch")
		_, err = bbshim.AllowTF32()
		assert.ErrorContains(t, err, "tf32 needs a CUDA libtorch")
		_, err = bbshim.CUDAMemory(0)
		assert.ErrorContains(t, err, "need a CUDA libtorch")
	}

	o.DType = "fp8"
	_, err = Run(o)
	assert.ErrorIs(t, err, ErrUsage)
}

// TestSoakNoLeak is the leak soak in small: 200 steps of the tiny model
// with finalizers off must leave the tensor count unchanged and the
// resident set within 64 MiB of where it started.
func TestSoakNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, task := range []string{TaskNER, TaskMLM} {
		t.Run(task, func(t *testing.T) {
			o := tinyOptions(task)
			o.Soak = 200
			res, err := Run(o)
			require.NoError(t, err)
			s := res.Soak
			require.NotNil(t, s)
			assert.Equal(t, 200, s.Steps)
			assert.Equal(t, s.TensorsStart, s.TensorsEnd, "tensors leaked per step")
			assert.Greater(t, s.TensorsStart, 0)
			assert.Less(t, s.RSSEndMiB-s.RSSStartMiB, 64.0, "resident set grew: %v", s.RSSSamples)
			assert.GreaterOrEqual(t, len(s.RSSSamples), 20)
			require.NotNil(t, s.LastLoss)
		})
	}
}

func TestOOM(t *testing.T) {
	cuda := errors.New("Libtorch API Error: CUDA out of memory. Tried to allocate 1.46 GiB (GPU 0; 11.76 GiB total capacity)")
	o := DefaultOptions()
	err := oomError(o, cuda)
	assert.ErrorIs(t, err, torchutil.ErrOutOfMemory)
	assert.ErrorIs(t, err, cuda)
	assert.ErrorContains(t, err, "bench: ner batch 4 × 256 on cpu: out of memory: "+torchutil.OOMHint)
	assert.Same(t, err, oomError(o, err), "wrapped once")
	other := errors.New("shape mismatch")
	assert.Same(t, other, oomError(o, other), "not an allocation failure")
	assert.NoError(t, oomError(o, nil))

	var buf bytes.Buffer
	w := OOMHintWriter(&buf, "biobertpt bench")
	_, err = w.Write([]byte("2026/01/01 Linear() failed: shape mismatch\n"))
	require.NoError(t, err)
	assert.NotContains(t, buf.String(), torchutil.OOMHint)
	_, err = w.Write([]byte(cuda.Error() + "\n"))
	require.NoError(t, err)
	assert.Contains(t, buf.String(), "biobertpt bench: out of memory: "+torchutil.OOMHint+"\n")
}

// TestRunMaxMemory: a cap below what the process already holds fails after
// the timed steps with an error wrapping ErrOutOfMemory and the hint; a
// generous cap passes and is reported.
func TestRunMaxMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	for _, tc := range []struct {
		name string
		gib  float64
		ok   bool
	}{
		{"tiny cap", 0.001, false},
		{"generous cap", 512, true},
		{"no cap", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tinyOptions(TaskNER)
			o.MaxMemoryGiB = tc.gib
			before := len(ts.ExistingTensors)
			res, err := Run(o)
			assert.Equal(t, before, len(ts.ExistingTensors), "Run drops every tensor, also on failure")
			if !tc.ok {
				require.Error(t, err)
				assert.Nil(t, res)
				assert.ErrorIs(t, err, torchutil.ErrOutOfMemory)
				assert.ErrorContains(t, err, "bench: ner batch 2 × 16 on cpu after 4 steps: torchutil: peak host memory")
				assert.Regexp(t, `is over the memory cap 0\.001 GiB \(1073741 bytes\): out of memory: `+regexp.QuoteMeta(torchutil.OOMHint), err.Error())
				return
			}
			require.NoError(t, err)
			b, err := json.Marshal(res)
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, json.Unmarshal(b, &got))
			require.Contains(t, got, "max_memory_gib")
			if tc.gib > 0 {
				assert.Equal(t, tc.gib, got["max_memory_gib"])
				require.NotNil(t, res.PeakMemGiB)
				assert.Less(t, *res.PeakMemGiB, tc.gib)
			} else {
				assert.Nil(t, got["max_memory_gib"], "null without a cap")
			}
		})
	}
}

// TestRunCPUAllocatorOOM builds a model whose word embeddings need 1 TiB:
// libtorch's CPU allocator refuses it through an error-returning call, and
// Run must return ErrOutOfMemory with the hint instead of ending the
// process. It runs only where the kernel refuses such an allocation
// (vm.overcommit_memory 0 or 2).
func TestRunCPUAllocatorOOM(t *testing.T) {
	mode, err := os.ReadFile("/proc/sys/vm/overcommit_memory")
	if err != nil || (string(bytes.TrimSpace(mode)) != "0" && string(bytes.TrimSpace(mode)) != "2") {
		t.Skip("the kernel may overcommit a 1 TiB allocation here")
	}
	o := tinyOptions(TaskNER)
	o.Config = bert.TinyConfig()
	o.Config.VocabSize = 1 << 33 // × hidden 32 × 4 bytes = 1 TiB
	_, err = Run(o)
	require.Error(t, err)
	assert.ErrorIs(t, err, torchutil.ErrOutOfMemory)
	assert.ErrorContains(t, err, torchutil.OOMHint)
}

// TestRunBF16 runs both tasks in bf16 (fp32 master weights, bf16 linear
// layers): the JSON says bf16, every tensor is dropped, and with dropout off
// the last loss is close to the fp32 run's (and, for MLM, not equal to it).
func TestRunBF16(t *testing.T) {
	for _, task := range []string{TaskNER, TaskMLM} {
		t.Run(task, func(t *testing.T) {
			loss := map[string]float64{}
			for _, dt := range []string{DTypeFP32, DTypeBF16} {
				o := tinyOptions(task)
				o.DType, o.Dropout = dt, 0
				before := len(ts.ExistingTensors)
				res, err := Run(o)
				require.NoError(t, err)
				assert.Equal(t, before, len(ts.ExistingTensors), "Run drops every tensor it creates")
				assert.Equal(t, dt, res.DType)
				assert.Equal(t, "highest", res.MatmulPrecision)
				require.NotNil(t, res.LastLoss)
				loss[dt] = *res.LastLoss
			}
			t.Logf("last loss fp32 %.4f bf16 %.4f", loss[DTypeFP32], loss[DTypeBF16])
			assert.InEpsilon(t, loss[DTypeFP32], loss[DTypeBF16], 2e-2)
			if task == TaskMLM {
				// The NER head's logits stay near zero over its 27 labels in
				// a few steps, so on some CPUs both precisions give the same
				// float32 loss; bert's TestBF16ForwardCloseToFP32 checks that
				// the bf16 casts change the token-classification logits.
				assert.NotEqual(t, loss[DTypeFP32], loss[DTypeBF16], "bf16 computes differently")
			}
		})
	}
}

func TestMaskedPositions(t *testing.T) {
	b, err := MakeBatch(TaskMLM, 3, 32, 100, 5)
	require.NoError(t, err)
	pos, labels := b.MaskedPositions()
	require.Len(t, labels, len(pos))
	assert.Equal(t, b.Labelled(), len(pos))
	for i, p := range pos {
		if i > 0 {
			assert.Greater(t, p, pos[i-1])
		}
		assert.Equal(t, b.Labels[p], labels[i])
		assert.Equal(t, int64(3), b.InputIDs[p], "[MASK] of the small vocabulary")
	}
	n, _ := MakeBatch(TaskNER, 1, 4, 100, 5)
	p, l := n.MaskedPositions()
	assert.Len(t, p, 4, "NER labels every position")
	assert.Equal(t, n.Labels, l)
}

// TestRunQKV: -qkv auto follows the library's default (fused), fused and
// separate force it, and the result says which ran.
func TestRunQKV(t *testing.T) {
	for _, tc := range []struct{ qkv, want string }{{"auto", "fused"}, {"fused", "fused"}, {"separate", "separate"}} {
		o := tinyOptions(TaskNER)
		o.QKV = tc.qkv
		res, err := Run(o)
		require.NoError(t, err, tc.qkv)
		assert.Equal(t, tc.want, res.QKV, tc.qkv)
		assert.False(t, res.CUDAGraph)
	}
}

// TestRunCUDAGraph: on the CPU -cuda-graph is refused with the reason; on
// CUDA (with bbshim's graphs) the replayed steps train as the eager ones
// do (same updates, dropout off: the last losses agree).
func TestRunCUDAGraph(t *testing.T) {
	o := tinyOptions(TaskNER)
	o.CUDAGraph = true
	if !gotch.CUDA.IsAvailable() {
		_, err := Run(o)
		require.Error(t, err)
		assert.ErrorContains(t, err, "-cuda-graph: needs -device cuda")
		return
	}
	if !bbshim.HasGraphs() || !bbshim.HasFusedAdamW() {
		t.Skip("bbshim built without CUDA graphs or fused AdamW")
	}
	o.Device, o.Dropout, o.Steps, o.Warmup = gotch.CudaBuilder(0), 0, 5, 2
	graph, err := Run(o)
	require.NoError(t, err)
	assert.True(t, graph.CUDAGraph)
	o.CUDAGraph, o.Warmup = false, 4 // the graph run did 2 more eager steps before capture
	eager, err := Run(o)
	require.NoError(t, err)
	require.NotNil(t, graph.LastLoss)
	require.NotNil(t, eager.LastLoss)
	assert.InDelta(t, *eager.LastLoss, *graph.LastLoss, 1e-3)
}
