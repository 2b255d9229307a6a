package ner

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
)

// TrainOptions configures Train. Start from DefaultTrainOptions(), which
// holds the paper's fine-tuning recipe (Schneider et al. 2020, §3.2): AdamW
// with lr 3e-5 and weight decay 0.01, batch 4, maximum length 256, 10
// epochs, a linear schedule with 10% warmup, IOB2.
type TrainOptions struct {
	// MaxLen is the longest input in sub-tokens, [CLS] and [SEP] included.
	// Longer sentences are cut into overlapping windows (never truncated).
	// Default 256.
	MaxLen int
	// Stride is the most sub-tokens consecutive windows of one sentence
	// share (tokenize.Tokenizer.EncodeWordsWindows); it must be below
	// MaxLen-2. Default 32.
	Stride int
	// BatchSize is the number of windows per forward pass. Default 4.
	BatchSize int
	// EvalBatchSize is the batch size of dev/test prediction. Default 32.
	EvalBatchSize int
	// GradAccum sums the gradients of this many batches before one
	// optimizer step (effective batch BatchSize·GradAccum). Default 1.
	GradAccum int
	// LR is the peak learning rate of AdamW. Default 3e-5.
	LR float64
	// Epochs is the number of passes over the training windows. Default 10.
	Epochs int
	// WeightDecay is AdamW's decoupled weight decay, applied to every
	// parameter except biases and LayerNorm weights (as HF Trainer). 0 is
	// valid. Default 0.01.
	WeightDecay float64
	// WarmupRatio is the fraction of optimizer steps with a linear warmup
	// from 0 to LR; the rest decays linearly to 0. Default 0.1.
	WarmupRatio float64
	// ClipNorm is the maximum global L2 norm of the gradients (0 = no
	// clipping). Default 1.0.
	ClipNorm float64
	// Scheme is the tagging scheme the model learns; the training tags are
	// converted to it. Default IOB2 (the zero value).
	Scheme Scheme
	// Seed seeds the classifier head's initialization, dropout and the
	// per-epoch shuffling. Default 42.
	Seed int64
	// LabelAll gives every sub-token of a word the word's label in the loss
	// (HF label_all_tokens); by default only the first sub-token is
	// labelled and the others are ignored (-100).
	LabelAll bool
	// ClassWeights weighs the cross-entropy loss per label ("O", "B-C", …);
	// labels not listed weigh 1. nil = unweighted.
	ClassWeights map[string]float64
	// BalanceClasses sets each label's weight to n/(L·n_l) (scikit-learn's
	// "balanced"; n labelled sub-tokens, L labels, n_l of label l, a label
	// never seen weighs 1), multiplied by ClassWeights when both are given.
	BalanceClasses bool
	// EvalEveryEpoch evaluates on the dev split after every epoch and keeps
	// the best model by dev micro F1; when false (or without a dev split)
	// the last epoch's model is kept. Default true.
	EvalEveryEpoch bool
	// EarlyStopping stops after this many evaluations without a better dev
	// F1 (0 = never).
	EarlyStopping int
	// Device is "cpu", "cuda" or "cuda:N". Default "cpu".
	Device string
	// Precision is the compute precision of training and evaluation
	// (bert.Precision: "fp32", or "bf16" mixed precision with float32
	// master weights, recommended on CUDA GPUs with native bf16). The
	// saved models are float32 whatever it is. "fp16" (CUDA only) computes
	// in float16 with dynamic loss scaling (optim.GradScaler), for GPUs
	// with fast fp16 but no bf16; a step whose gradients overflow is
	// skipped. Default fp32.
	Precision bert.Precision
	// MaxMemoryGiB caps the memory training may use (0: no cap). On CUDA
	// the caching allocator refuses to grow beyond it, so a run that would
	// not fit a smaller card (11 GiB for a 12 GB GTX-class card) fails
	// here too, with an out-of-memory error that says to lower the batch
	// size and accumulate gradients; on the CPU the process's peak
	// resident memory is compared with it after every step.
	MaxMemoryGiB float64
	// OutDir receives best/ (the best model, a HF model directory),
	// checkpoint-<step>/ (the resumable states), metrics.jsonl and the test
	// report.
	// Required.
	OutDir string
	// SaveTotalLimit keeps the model directories of the last this many
	// epochs as OutDir/epoch-N besides best/ (0 = none).
	SaveTotalLimit int
	// KeepCheckpoints is the number of OutDir/checkpoint-<step>/
	// directories kept (the newest ones, plus the best epoch's, as HF's
	// save_total_limit; trainstate.Rotate); 0 keeps all. Keeping two lets a
	// resume fall back to the previous checkpoint when the newest is
	// damaged. Default 2.
	KeepCheckpoints int
	// Resume continues from the newest valid OutDir/checkpoint-<step>/ when
	// there is one (written at the end of every epoch and when ctx is
	// cancelled); without any, training starts afresh.
	Resume bool
	// Log receives the progress bar and a line per epoch; nil = silent.
	Log io.Writer
	// MaxSteps stops after this many optimizer steps in total (0 = no
	// limit); the schedule still spans Epochs. For tests and smoke runs.
	MaxSteps int
	// CUDAGraph records the forward and backward pass of a micro-batch as
	// a CUDA graph once and replays it for every later one (staticStep in
	// train_graph.go): batches are then padded to BatchSize × MaxLen. At
	// the paper's batch 4 × 256 a GPU step is bound by kernel launches,
	// which a graph removes. It needs a CUDA device and bbshim's graphs,
	// and is refused with fp16 (its loss scale changes) and class weights.
	// Default false.
	CUDAGraph bool
	// LogSteps writes a "train" metrics line every LogSteps optimizer
	// steps (HF logging_steps). On CUDA it is also how often the step
	// losses are read from the device: in between, steps are queued
	// without waiting for the GPU (epoch ends read them too). On the CPU
	// they are read every step. Default 10; 1 logs every step.
	LogSteps int

	// onStep, when set (tests), is called after every optimizer step with
	// the number of steps done.
	onStep func(step int)
	// deferReads (tests) defers the loss reads on the CPU too, as on CUDA.
	deferReads bool
	// forceScaler (tests) enables fp16's loss scaler at any precision.
	forceScaler bool
	// fixedShapes (tests) takes CUDAGraph's fixed-shape path without
	// recording a graph (the CPU cannot).
	fixedShapes bool
}

// DefaultTrainOptions returns the paper's fine-tuning options. OutDir is
// left empty.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{
		MaxLen:          256,
		Stride:          32,
		BatchSize:       4,
		EvalBatchSize:   32,
		GradAccum:       1,
		LR:              3e-5,
		Epochs:          10,
		WeightDecay:     0.01,
		WarmupRatio:     0.1,
		ClipNorm:        1.0,
		Scheme:          IOB2,
		Seed:            42,
		EvalEveryEpoch:  true,
		Device:          "cpu",
		KeepCheckpoints: 2,
		LogSteps:        10,
		Precision:       bert.DefaultPrecision,
	}
}

// Validate reports the first invalid field by name.
func (o TrainOptions) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("ner: train options: %s %v: %s", field, v, want)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case o.MaxLen < 3:
		return bad("MaxLen", o.MaxLen, "want >= 3 ([CLS], a token, [SEP])")
	case o.Stride < 0 || o.Stride >= o.MaxLen-2:
		return bad("Stride", o.Stride, fmt.Sprintf("want 0 <= Stride < MaxLen-2 = %d", o.MaxLen-2))
	case o.BatchSize < 1:
		return bad("BatchSize", o.BatchSize, "want >= 1")
	case o.EvalBatchSize < 1:
		return bad("EvalBatchSize", o.EvalBatchSize, "want >= 1")
	case o.GradAccum < 1:
		return bad("GradAccum", o.GradAccum, "want >= 1")
	case !finite(o.LR) || o.LR <= 0:
		return bad("LR", o.LR, "want > 0")
	case o.Epochs < 1:
		return bad("Epochs", o.Epochs, "want >= 1")
	case !finite(o.WeightDecay) || o.WeightDecay < 0:
		return bad("WeightDecay", o.WeightDecay, "want >= 0")
	case !finite(o.WarmupRatio) || o.WarmupRatio < 0 || o.WarmupRatio > 1:
		return bad("WarmupRatio", o.WarmupRatio, "want in [0, 1]")
	case !finite(o.ClipNorm) || o.ClipNorm < 0:
		return bad("ClipNorm", o.ClipNorm, "want >= 0 (0 = off)")
	case o.EarlyStopping < 0:
		return bad("EarlyStopping", o.EarlyStopping, "want >= 0 (0 = off)")
	case o.KeepCheckpoints < 0:
		return bad("KeepCheckpoints", o.KeepCheckpoints, "want >= 0 (0 = all)")
	case o.SaveTotalLimit < 0:
		return bad("SaveTotalLimit", o.SaveTotalLimit, "want >= 0")
	case !finite(o.MaxMemoryGiB) || o.MaxMemoryGiB < 0:
		return bad("MaxMemoryGiB", o.MaxMemoryGiB, "want >= 0 (0 = no cap)")
	case o.CUDAGraph && o.Precision == bert.PrecisionFP16:
		return bad("CUDAGraph", true, "not with fp16 (its loss scale changes between steps); use bf16 or fp32")
	case o.CUDAGraph && (o.ClassWeights != nil || o.BalanceClasses):
		return bad("CUDAGraph", true, "not with class weights")
	case o.LogSteps < 1:
		return bad("LogSteps", o.LogSteps, "want >= 1")
	case o.MaxSteps < 0:
		return bad("MaxSteps", o.MaxSteps, "want >= 0 (0 = no limit)")
	case strings.TrimSpace(o.OutDir) == "":
		return bad("OutDir", `""`, "required")
	}
	if err := o.Scheme.Validate(); err != nil {
		return fmt.Errorf("ner: train options: Scheme: %w", err)
	}
	for l, w := range o.ClassWeights {
		if !finite(w) || w < 0 {
			return bad("ClassWeights["+l+"]", w, "want a finite weight >= 0")
		}
	}
	if _, err := bert.ParsePrecision(string(o.Precision)); err != nil {
		return fmt.Errorf("ner: train options: Precision: %w", err)
	}
	if !validDevice(o.Device) {
		return bad("Device", fmt.Sprintf("%q", o.Device), `want "cpu", "cuda" or "cuda:N"`)
	}
	return nil
}

// validDevice accepts "", "cpu", "cuda" and "cuda:N".
func validDevice(d string) bool {
	d = strings.ToLower(strings.TrimSpace(d))
	if d == "" || d == "cpu" || d == "cuda" {
		return true
	}
	n, ok := strings.CutPrefix(d, "cuda:")
	if !ok || n == "" {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
