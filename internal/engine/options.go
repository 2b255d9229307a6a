package engine

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// Options are the training knobs every trainer shares, one name and type
// each, named after HF TrainingArguments where it has the knob. ner and
// pretrain embed Options in their TrainOptions (pretrain through its
// Options) and set the defaults of their recipes there; the zero value is
// not a usable configuration.
type Options struct {
	// OutDir is the run's output directory (HF output_dir): checkpoints,
	// metrics.jsonl, the run manifest and the trainer's models and
	// reports. Required.
	OutDir string
	// OverwriteOutputDir lets a run start in an OutDir that holds another
	// run (HF overwrite_output_dir): the previous run's files are moved
	// aside into a sibling directory first (PrepareOutDir); nothing is
	// deleted. Without it (and without Resume) such a directory is refused.
	OverwriteOutputDir bool
	// Resume continues the run in OutDir from its newest valid checkpoint
	// (HF resume_from_checkpoint=True); without a checkpoint it starts
	// afresh. The run manifest must match (see PrepareOutDir).
	Resume bool

	// Epochs is the number of passes over the training data (HF
	// num_train_epochs). MaxSteps > 0 overrides it.
	Epochs int
	// MaxSteps is the total number of optimizer steps (HF max_steps); 0
	// runs Epochs epochs. When set it also fixes the schedule's length.
	MaxSteps int
	// BatchSize is the number of examples in one micro-batch, a forward
	// pass, of each process (HF per_device_train_batch_size).
	BatchSize int
	// GradAccum is the number of micro-batches whose gradients are summed
	// before one optimizer step (HF gradient_accumulation_steps); the last
	// step of an epoch may have fewer. The effective batch is
	// BatchSize·GradAccum·(processes of a data-parallel run).
	GradAccum int
	// LR is AdamW's peak learning rate (HF learning_rate).
	LR float64
	// WarmupRatio is the fraction of the optimizer steps with a linear
	// warmup from 0 to LR (HF warmup_ratio), in [0, 1); the rest decays
	// linearly to 0.
	WarmupRatio float64
	// WarmupSteps > 0 overrides WarmupRatio (HF warmup_steps).
	WarmupSteps int
	// WeightDecay is AdamW's decoupled weight decay (HF weight_decay),
	// applied to every parameter except biases and LayerNorm weights, as HF
	// Trainer does. 0 is valid.
	WeightDecay float64
	// AdamBeta1, AdamBeta2 and AdamEpsilon are AdamW's β₁, β₂ and ε (HF
	// adam_beta1, adam_beta2, adam_epsilon: 0.9, 0.999, 1e-8).
	AdamBeta1, AdamBeta2, AdamEpsilon float64
	// MaxGradNorm clips the global L2 norm of the gradients (HF
	// max_grad_norm); 0 disables clipping.
	MaxGradNorm float64
	// Seed seeds every random draw of the run (HF seed): the trainer's
	// data order and initialisation, and dropout, reseeded before every
	// micro-batch from (Seed, step, micro-batch) so that a resumed run
	// draws what an uninterrupted one does (see DropoutSeed).
	Seed int64

	// Device is "cpu", "cuda" or "cuda:N" ("" is "cpu").
	Device string
	// Precision is the compute precision (bert.Precision): fp32; bf16
	// (bf16 matmuls, float32 master weights, for CUDA GPUs with bf16);
	// fp16 (CUDA only, with dynamic loss scaling, optim.GradScaler, for
	// GPUs without bf16). Parameters, gradients, optimizer state and
	// every saved model stay float32.
	Precision bert.Precision
	// MaxMemoryGiB caps the memory training may use (0: no cap). On CUDA
	// the caching allocator refuses to grow beyond it, so a run that would
	// not fit a smaller card fails here too, with an out-of-memory error
	// that says to lower the batch size and accumulate gradients; on the
	// CPU the process's peak resident memory is compared with it after
	// every step.
	MaxMemoryGiB float64

	// LogSteps writes a "train" line to metrics.jsonl every LogSteps
	// optimizer steps and at the last one (HF logging_steps); 0 writes
	// none. On CUDA it is also how often the losses are read from the
	// device (every 10 steps when 0): in between, steps are queued without
	// waiting for the GPU. On the CPU they are read every step.
	LogSteps int
	// SaveSteps writes a checkpoint every SaveSteps optimizer steps (HF
	// save_steps), besides the ones at every epoch end and at the end of
	// training; 0: only those.
	SaveSteps int
	// SaveTotalLimit keeps the newest SaveTotalLimit checkpoints (HF
	// save_total_limit), and the best one (trainstate.Rotate); 0 keeps
	// all. Keeping two lets a resume fall back to the previous checkpoint
	// when the newest is damaged.
	SaveTotalLimit int
	// EvalEachEpoch evaluates at the end of every epoch (and at the end of
	// training); what is evaluated is the trainer's.
	EvalEachEpoch bool

	// DistTimeout bounds the rendezvous of a data-parallel run and every
	// collective operation after it (the gradient all-reduce of a step,
	// the barriers around rank 0's writes): a rank that died or stalled
	// makes the others fail with an error naming the operation within it,
	// instead of hanging. 0 is 30 minutes (torch.distributed's default).
	// Unused in one process.
	DistTimeout time.Duration

	// Log receives the progress bar and messages; nil is silent. The
	// metrics always go to OutDir's metrics.jsonl.
	Log io.Writer `json:"-"`
	// OnStep, when not nil, is called after every optimizer step with the
	// step's metrics, on the training goroutine. Cancel the training
	// context from it to stop training; a checkpoint is then written.
	// Setting it makes the trainer read each step's loss at once (a wait
	// for the GPU on CUDA) instead of every LogSteps steps.
	OnStep func(StepMetrics) `json:"-"`
}

// StepMetrics are the metrics of one optimizer step, as written to
// metrics.jsonl.
type StepMetrics struct {
	Stage    string  `json:"stage"`
	Step     int     `json:"step"`      // optimizer steps done, from 1
	Epoch    float64 `json:"epoch"`     // fractional epoch, step/steps per epoch
	Loss     float64 `json:"loss"`      // mean loss of the step's micro-batches (NaN: none had a label)
	LR       float64 `json:"lr"`        // learning rate the step used
	GradNorm float64 `json:"grad_norm"` // total gradient norm before clipping (0 without clipping)
	Tokens   int     `json:"tokens"`    // non-padding tokens of the step
	// Skipped: fp16 only, the gradients overflowed, so the update was
	// skipped (and the loss scale halved).
	Skipped bool `json:"skipped,omitempty"`
}

// Validate names the first bad field, as "Field value: want ...". OutDir
// is checked by Open (and the trainers' own Validate), so that the
// hyper-parameters can be checked before an output directory is chosen.
func (o Options) Validate() error {
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("%s %v: want %s", field, v, want)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case o.OverwriteOutputDir && o.Resume:
		return bad("OverwriteOutputDir", true, "not with Resume (resume the run, or replace it)")
	case o.Epochs < 1 && o.MaxSteps <= 0:
		return bad("Epochs", o.Epochs, ">= 1 (or MaxSteps > 0)")
	case o.MaxSteps < 0:
		return bad("MaxSteps", o.MaxSteps, ">= 0 (0 = Epochs)")
	case o.BatchSize < 1:
		return bad("BatchSize", o.BatchSize, ">= 1")
	case o.GradAccum < 1:
		return bad("GradAccum", o.GradAccum, ">= 1")
	case !finite(o.LR) || !(o.LR > 0):
		return bad("LR", o.LR, "> 0")
	case !(o.WarmupRatio >= 0 && o.WarmupRatio < 1):
		return bad("WarmupRatio", o.WarmupRatio, "in [0, 1)")
	case o.WarmupSteps < 0:
		return bad("WarmupSteps", o.WarmupSteps, ">= 0")
	case !finite(o.WeightDecay) || !(o.WeightDecay >= 0):
		return bad("WeightDecay", o.WeightDecay, ">= 0")
	case !(o.AdamBeta1 >= 0 && o.AdamBeta1 < 1):
		return bad("AdamBeta1", o.AdamBeta1, "in [0, 1)")
	case !(o.AdamBeta2 >= 0 && o.AdamBeta2 < 1):
		return bad("AdamBeta2", o.AdamBeta2, "in [0, 1)")
	case !finite(o.AdamEpsilon) || !(o.AdamEpsilon > 0):
		return bad("AdamEpsilon", o.AdamEpsilon, "> 0")
	case !finite(o.MaxGradNorm) || !(o.MaxGradNorm >= 0):
		return bad("MaxGradNorm", o.MaxGradNorm, ">= 0 (0 = no clipping)")
	case !torchutil.ValidDevice(o.Device):
		return bad("Device", fmt.Sprintf("%q", o.Device), `"cpu", "cuda" or "cuda:N"`)
	case !finite(o.MaxMemoryGiB) || !(o.MaxMemoryGiB >= 0):
		return bad("MaxMemoryGiB", o.MaxMemoryGiB, ">= 0 (0 = no cap)")
	case o.LogSteps < 0:
		return bad("LogSteps", o.LogSteps, ">= 0 (0 = no step lines)")
	case o.SaveSteps < 0:
		return bad("SaveSteps", o.SaveSteps, ">= 0 (0 = epoch ends only)")
	case o.DistTimeout < 0:
		return bad("DistTimeout", o.DistTimeout, ">= 0 (0 = 30m)")
	case o.SaveTotalLimit < 0:
		return bad("SaveTotalLimit", o.SaveTotalLimit, ">= 0 (0 = keep all)")
	}
	if _, err := bert.ParsePrecision(string(o.Precision)); err != nil {
		return fmt.Errorf("Precision: %w", err)
	}
	return nil
}

// TotalSteps is the length of the run in optimizer steps for an epoch of
// stepsPerEpoch steps: MaxSteps when set, else Epochs·stepsPerEpoch.
func (o Options) TotalSteps(stepsPerEpoch int) int {
	if o.MaxSteps > 0 {
		return o.MaxSteps
	}
	return o.Epochs * stepsPerEpoch
}

// Warmup is the number of warmup steps of a run of total steps:
// WarmupSteps when set, else ceil(WarmupRatio·total) (HF
// get_warmup_steps).
func (o Options) Warmup(total int) int {
	if o.WarmupSteps > 0 {
		return o.WarmupSteps
	}
	return int(math.Ceil(o.WarmupRatio * float64(total)))
}

// ValidateOutDir checks that OutDir is set.
func (o Options) ValidateOutDir() error {
	if strings.TrimSpace(o.OutDir) == "" {
		return fmt.Errorf("OutDir %q: want an output directory (required)", o.OutDir)
	}
	return nil
}
