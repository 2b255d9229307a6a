package bench

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/optim"
)

// Tasks and dtypes, as hf_bench.py spells them.
const (
	TaskNER = "ner" // BertForTokenClassification with NumLabels labels
	TaskMLM = "mlm" // BertForMaskedLM

	DTypeFP32 = "fp32" // fp32 weights and strict fp32 matmuls
	DTypeTF32 = "tf32" // fp32 weights, TF32 matmuls (CUDA, needs the shim)
	DTypeBF16 = "bf16" // bf16 compute with fp32 master weights (bert.PrecisionBF16)
	DTypeFP16 = "fp16" // fp16 compute, fp32 master weights, loss scaling (bert.PrecisionFP16; CUDA)
)

// NumLabels is hf_bench.py's NUM_LABELS: 13 entity types in IOB2 plus O.
const NumLabels = 27

// ErrUsage marks an invalid option (a bad task, dtype, size or count).
var ErrUsage = errors.New("bench: invalid option")

// Options configures Run. Start from DefaultOptions().
type Options struct {
	Task   string // "ner" (TaskNER) or "mlm" (TaskMLM)
	Batch  int    // 4
	Seq    int    // 256; at most the config's max_position_embeddings
	DType  string // "fp32"; "tf32" needs a CUDA libtorch and device; "bf16" is bert.PrecisionBF16; "fp16" is bert.PrecisionFP16 with an optim.GradScaler (CUDA device)
	Steps  int    // 30 timed steps (hf_bench.py --all)
	Warmup int    // 5 untimed steps before the clock starts

	// Device is where the model and batch live (gotch.CPU by default).
	Device gotch.Device
	// Config is the model configuration; nil means MBERTConfig(). Run
	// never modifies it.
	Config *bert.Config
	// ConfigName labels Config in the result ("mbert" by default).
	ConfigName string
	// Dropout is set as both hidden and attention dropout (0.1, as
	// hf_bench.py --dropout). A negative value keeps the config's.
	Dropout float64
	// Attention is "auto" (SDPA when the linked libtorch has it, else the
	// manual kernel; the default), "sdpa" or "manual".
	Attention string
	// QKV is the query/key/value projection (bert.Model.SetFusedQKV):
	// "auto" (the library's default, fused), "fused" (one (3H, H) matmul)
	// or "separate" (three, HF's
	// BertSelfAttention literally): to measure that lever. "" is auto.
	QKV string
	// CUDAGraph captures the whole training step (forward, loss, backward,
	// clipping, fused AdamW, zero grad) once as a CUDA graph after the
	// warmup steps and times its replays (torch's whole-network capture).
	// It needs a CUDA device, bbshim's
	// graphs (bbshim.HasGraphs), the fused AdamW and a dtype other than
	// fp16 (whose loss scaler reads a flag every step).
	CUDAGraph bool
	// AdamW is optim.AdamWOptions.Impl: "auto" (default: fused on CUDA
	// with libtorch ≥ 2.0, else foreach), "fused", "foreach" or
	// "single-tensor".
	AdamW string
	LR    float64 // 5e-5, constant (hf_bench.py)
	Seed  int64   // 0: libtorch's seed and the batch's
	// Soak, when > 0, runs that many extra steps after the timed ones and
	// reports tensors and resident memory before and after them.
	Soak int
	// Finalizers keeps gotch's Go finalizers on for the tensors created by
	// the run (false: memory is fully explicit, leaks show in the counts).
	Finalizers bool
	// MaxMemoryGiB caps Device's memory (torchutil.LimitMemory), set
	// before the model is built and checked after the timed steps: on CUDA
	// the caching allocator refuses to reserve more (the step fails as out
	// of memory), on the CPU the peak resident set is compared with it. 0
	// (the default) is no cap.
	MaxMemoryGiB float64
}

// DefaultOptions returns hf_bench.py's defaults: NER, batch 4 × 256, fp32,
// 30 steps after 5 warmup steps, mBERT size, dropout 0.1, lr 5e-5, seed 0,
// on the CPU.
func DefaultOptions() Options {
	return Options{
		Task: TaskNER, Batch: 4, Seq: 256, DType: DTypeFP32, Steps: 30, Warmup: 5,
		Device: gotch.CPU, ConfigName: "mbert", Dropout: 0.1, Attention: "auto", AdamW: optim.ImplAuto, LR: 5e-5,
	}
}

// Validate checks every field and names the bad one; the errors wrap
// ErrUsage.
func (o Options) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
	}
	switch {
	case o.Task != TaskNER && o.Task != TaskMLM:
		return bad("Task %q: want ner or mlm", o.Task)
	case o.DType != DTypeFP32 && o.DType != DTypeTF32 && o.DType != DTypeBF16 && o.DType != DTypeFP16:
		return bad("DType %q: want fp32, tf32, bf16 or fp16", o.DType)
	case o.Batch < 1:
		return bad("Batch %d must be >= 1", o.Batch)
	case o.Seq < 2:
		return bad("Seq %d must be >= 2 ([CLS] and [SEP])", o.Seq)
	case o.Steps < 1:
		return bad("Steps %d must be >= 1", o.Steps)
	case o.Warmup < 0:
		return bad("Warmup %d must be >= 0", o.Warmup)
	case o.QKV != "" && o.QKV != "auto" && o.QKV != "fused" && o.QKV != "separate":
		return bad("QKV %q: want auto, fused or separate", o.QKV)
	case o.CUDAGraph && o.DType == DTypeFP16:
		return bad("-cuda-graph with fp16: the loss scaler reads its found-inf flag every step, which a graph cannot; use bf16 or tf32")
	case o.CUDAGraph && o.AdamW != optim.ImplAuto && o.AdamW != optim.ImplFused:
		return bad("-cuda-graph with -adamw %s: the graph needs the fused AdamW (its step count lives on the device)", o.AdamW)
	case o.Soak < 0:
		return bad("Soak %d must be >= 0", o.Soak)
	case !(o.LR >= 0):
		return bad("LR %v must be >= 0", o.LR)
	case o.Dropout >= 1:
		return bad("Dropout %v must be < 1", o.Dropout)
	case !(o.MaxMemoryGiB >= 0) || math.IsInf(o.MaxMemoryGiB, 0):
		return bad("MaxMemoryGiB %v must be >= 0 and finite (0 = no cap)", o.MaxMemoryGiB)
	case o.Attention != "auto" && o.Attention != "sdpa" && o.Attention != "manual":
		return bad("Attention %q: want auto, sdpa or manual", o.Attention)
	}
	switch o.AdamW {
	case "", optim.ImplAuto, optim.ImplFused, optim.ImplForeach, optim.ImplSingleTensor:
	default:
		return bad("AdamW %q: want auto, fused, foreach or single-tensor", o.AdamW)
	}
	cfg := o.config()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if o.Seq > cfg.MaxPositionEmbeddings {
		return bad("Seq %d exceeds max_position_embeddings %d", o.Seq, cfg.MaxPositionEmbeddings)
	}
	if cfg.VocabSize < 5 {
		return bad("vocab_size %d: need at least 5 ids (specials + one word)", cfg.VocabSize)
	}
	return nil
}

// config returns the configuration Run builds: Config (or mBERT's) with
// Options.Dropout applied, as a copy.
func (o Options) config() *bert.Config {
	c := o.Config
	if c == nil {
		c = MBERTConfig()
	}
	c = c.Clone()
	if o.Dropout >= 0 {
		c.HiddenDropoutProb = o.Dropout
		c.AttentionProbsDropoutProb = o.Dropout
	}
	return c
}

// MBERTConfig is hf_bench.py's MBERT: bert-base-multilingual-cased sizes
// (vocab 119,547, hidden 768, 12 layers, 12 heads, intermediate 3072, 512
// positions, 2 token types, gelu, layer_norm_eps 1e-12, pad 0, dropout 0.1).
func MBERTConfig() *bert.Config {
	c := bert.DefaultConfig()
	c.VocabSize = 119547
	return c
}

// SmallConfig is BERT-Small's encoder (Turc et al. 2019: 4 layers, hidden
// 512, 8 heads, intermediate 2048) with mBERT's 119,547-id vocabulary and
// 512 positions: a CPU-sized model that keeps the vocabulary cost.
func SmallConfig() *bert.Config {
	c := MBERTConfig()
	c.HiddenSize = 512
	c.NumHiddenLayers = 4
	c.NumAttentionHeads = 8
	c.IntermediateSize = 2048
	return c
}

// ResolveConfig maps a -config value to a configuration and its label:
// "mbert" (MBERTConfig), "small" (SmallConfig), "tiny" (bert.TinyConfig:
// vocab 100, hidden 32, 2 layers, 64 positions) or the path of a
// config.json (a directory holding one is accepted too).
func ResolveConfig(name string) (*bert.Config, string, error) {
	switch strings.ToLower(name) {
	case "", "mbert":
		return MBERTConfig(), "mbert", nil
	case "small":
		return SmallConfig(), "small", nil
	case "tiny":
		return bert.TinyConfig(), "tiny", nil
	}
	path := name
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "config.json")
	}
	c, err := bert.LoadConfig(path)
	if err != nil {
		return nil, "", fmt.Errorf("bench: config %q (want mbert, small, tiny or a config.json): %w", name, err)
	}
	return c, path, nil
}
