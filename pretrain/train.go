package pretrain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/bert"
)

// TrainOptions configures Train. Start from DefaultTrainOptions(): the
// embedded Options hold the paper's hyper-parameters, the other fields say
// what to train, from what and where to write it.
type TrainOptions struct {
	Options

	// Variant is clin, bio, all or custom (default). Its stages read the
	// corpora of Corpora (see Variant.Bind); all runs clin, then bio
	// continuing from clin's model, as the paper did.
	Variant string
	// Corpora maps corpus names (CorpusClinical, CorpusSciELOHealth, ...) to
	// paths or globs (see Variant.Bind); the key "" holds unnamed paths,
	// allowed for a one-stage variant, and a stage's name (clin, bio) gives
	// the files of that whole stage. ParseCorpusArg builds it from a
	// -corpus flag.
	Corpora map[string][]string
	// Corpus says how the corpus files are read (lines or paragraphs,
	// sentence splitting). Default: one document per line.
	Corpus CorpusOptions

	// Model is the starting model: a directory (HF format, with vocab.txt)
	// or a Hub name such as "bert-base-multilingual-cased". Either Model
	// or Config and Vocab.
	Model string
	// Config and Vocab start from scratch: a fresh BERT built from
	// config.json with HF's initialisation (normal(0, 0.02), zero biases,
	// LayerNorm 1 and 0) and the WordPiece vocabulary vocab.txt (read with
	// tokenize's defaults: cased). The vocabulary size must equal the
	// config's vocab_size.
	Config, Vocab string

	// OutDir receives, for a one-stage variant: checkpoint-<step>/
	// directories, metrics.jsonl, cache/ and final/, the trained model. For
	// all: OutDir/clin/ and OutDir/bio/ hold each stage's checkpoints and
	// metrics, OutDir/clin/final is the clin model and OutDir/final the
	// variant's (bio stage's) model. Required.
	OutDir string
	// CacheDir holds the token caches. Default "" means OutDir/cache.
	CacheDir string
	// Workers encoding the corpus in parallel when the cache is built;
	// 0 means runtime.GOMAXPROCS(0).
	Workers int

	// Device to train on. Default gotch.CPU.
	Device gotch.Device
	// Precision is the compute precision of the model's forward passes
	// (bert.Precision): fp32 (the default) or bf16, bf16 linear layers and
	// matmuls with float32 master weights, LayerNorm, softmax and the loss
	// in float32 (torch.autocast's rules); parameters, gradients, the AdamW
	// state and every checkpoint stay float32. bf16 is the recommended
	// choice on CUDA GPUs with native bf16 (A100, H100, RTX 30xx and
	// newer); the default stays fp32 because bf16 is slow on the CPU and
	// its GPU speed has not been measured by this project.
	//
	// fp16 (CUDA only) computes in float16 with dynamic loss scaling
	// (optim.GradScaler, torch.cuda.amp's defaults): for GPUs with fast
	// fp16 but no bf16 (RTX 20xx, T4, V100). A step whose gradients
	// overflow is skipped and the scale halves; the scale is saved in the
	// checkpoints.
	Precision bert.Precision
	// MaxMemoryGiB caps the memory training may use (0: no cap). On CUDA
	// the caching allocator refuses to grow beyond it, so a run that would
	// not fit a smaller card (11 GiB for a 12 GB GTX-class card) fails
	// here too, with an out-of-memory error that says to lower the batch
	// size and accumulate gradients; on the CPU the process's peak
	// resident memory is compared with it after every step.
	MaxMemoryGiB float64
	// SaveTotalLimit keeps at most this many checkpoints per stage, the
	// oldest deleted first (HF save_total_limit). Default 0 keeps all.
	SaveTotalLimit int
	// EvalEachEpoch computes the validation loss and perplexity at the end
	// of every epoch (and at the end of training). Default true. It needs
	// a validation split (ValidationFraction > 0).
	EvalEachEpoch bool
	// LogSteps: a metrics line every LogSteps optimizer steps (HF
	// logging_steps). Default 10; 1 logs every step. On CUDA it is also
	// how often the losses are read from the device (10 when LogSteps is
	// 0): in between, steps are queued without waiting for the GPU. On the
	// CPU, where nothing is gained by waiting, they are read every step.
	LogSteps int
	// Resume continues each stage from its latest good checkpoint in
	// OutDir (a stage whose final model exists is skipped); without a
	// checkpoint it starts afresh. Default false: OutDir must then hold no
	// checkpoint of a previous run.
	Resume bool
	// Log receives the progress bar and messages; nil is silent. The
	// metrics always go to metrics.jsonl.
	Log io.Writer
	// OnStep, when not nil, is called after every optimizer step with the
	// step's metrics (on the training goroutine). Cancel the context from
	// it to stop training; a checkpoint is then written. Setting it makes
	// the trainer read each step's loss at once (a wait for the GPU on
	// CUDA) instead of every LogSteps steps.
	OnStep func(StepMetrics)

	// deferReads (tests) defers the loss reads on the CPU too, as on CUDA.
	deferReads bool
	// forceScaler (tests) enables fp16's loss scaler at any precision.
	forceScaler bool
}

// DefaultTrainOptions returns DefaultOptions() (the paper's
// hyper-parameters), variant custom, CPU, evaluation each epoch, a metrics
// line every 10 steps and every checkpoint kept.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Options: DefaultOptions(), Variant: "custom", Device: gotch.CPU, EvalEachEpoch: true, LogSteps: 10, Precision: bert.DefaultPrecision}
}

// Validate names the first bad field.
func (o TrainOptions) Validate() error {
	if err := o.Options.Validate(); err != nil {
		return err
	}
	if err := o.Corpus.Validate(); err != nil {
		return err
	}
	if _, err := LookupVariant(o.Variant); err != nil {
		return err
	}
	if _, err := bert.ParsePrecision(string(o.Precision)); err != nil {
		return fmt.Errorf("pretrain: train options: Precision: %w", err)
	}
	switch {
	case len(o.Corpora) == 0:
		return errors.New("pretrain: train options: Corpora is empty (no corpus files)")
	case o.Model != "" && (o.Config != "" || o.Vocab != ""):
		return errors.New("pretrain: train options: set Model, or Config and Vocab (from scratch), not both")
	case o.Model == "" && (o.Config == "" || o.Vocab == ""):
		return errors.New("pretrain: train options: need Model, or Config and Vocab to start from scratch")
	case o.OutDir == "":
		return errors.New("pretrain: train options: OutDir is required")
	case o.SaveTotalLimit < 0:
		return fmt.Errorf("pretrain: train options: SaveTotalLimit %d < 0", o.SaveTotalLimit)
	case math.IsNaN(o.MaxMemoryGiB) || math.IsInf(o.MaxMemoryGiB, 0) || o.MaxMemoryGiB < 0:
		return fmt.Errorf("pretrain: train options: MaxMemoryGiB %v: want >= 0 (0: no cap)", o.MaxMemoryGiB)
	case o.LogSteps < 0:
		return fmt.Errorf("pretrain: train options: LogSteps %d < 0", o.LogSteps)
	case o.Workers < 0:
		return fmt.Errorf("pretrain: train options: Workers %d < 0", o.Workers)
	case o.EvalEachEpoch && o.ValidationFraction == 0:
		return errors.New("pretrain: train options: EvalEachEpoch needs a validation split (ValidationFraction > 0)")
	}
	return nil
}

// StepMetrics are the metrics of one optimizer step, as written to
// metrics.jsonl.
type StepMetrics struct {
	Stage    string  `json:"stage"`
	Step     int     `json:"step"`      // optimizer steps done, from 1
	Epoch    float64 `json:"epoch"`     // fractional epoch, HF style
	Loss     float64 `json:"loss"`      // mean masked-LM loss of the step's micro-batches
	LR       float64 `json:"lr"`        // learning rate the step used
	GradNorm float64 `json:"grad_norm"` // total gradient norm before clipping (0 without clipping)
	Tokens   int     `json:"tokens"`    // non-padding tokens of the step
	// Skipped: fp16 only, the gradients overflowed, so the update was
	// skipped (and the loss scale halved).
	Skipped bool `json:"skipped,omitempty"`
}

// EvalMetrics are the validation metrics at the end of an epoch.
type EvalMetrics struct {
	Stage      string  `json:"stage"`
	Step       int     `json:"step"`
	Epoch      float64 `json:"epoch"`
	Loss       float64 `json:"eval_loss"`
	Perplexity float64 `json:"perplexity"`
	Tokens     int64   `json:"eval_tokens"` // masked tokens predicted
}

// StageResult is what one stage of a variant did.
type StageResult struct {
	Name string
	// Dir holds the stage's checkpoints and metrics; FinalDir its model.
	Dir, FinalDir string
	// StartStep is the step the stage resumed from (0 when it started
	// afresh); Steps the steps done in total; TotalSteps the planned ones.
	StartStep, Steps, TotalSteps int
	// Losses are the training losses of the steps this call ran (from
	// StartStep+1 on), one per optimizer step.
	Losses []float64
	// Evals are the validation metrics computed by this call.
	Evals []EvalMetrics
	// Skipped: the stage's final model already existed (Resume).
	Skipped bool
	// Resumed names the checkpoint the stage resumed from.
	Resumed string
	// TrainBlocks and ValidationBlocks count the examples of the splits.
	TrainBlocks, ValidationBlocks int
	// Cache is the token cache file.
	Cache string
}

// Result is what Train did.
type Result struct {
	// FinalDir is the final model: an HF model directory (config.json,
	// model.safetensors, vocab.txt, tokenizer_config.json) that
	// bert.LoadForMaskedLM and transformers' from_pretrained load.
	FinalDir string
	Stages   []StageResult
	Duration time.Duration
}

// stageDirs returns the working directory of each stage and the final
// model directory of the variant (the last stage's final model).
func stageDirs(out string, stages []BoundStage) (dirs []string, final string) {
	if len(stages) == 1 {
		return []string{out}, filepath.Join(out, "final")
	}
	for _, s := range stages {
		dirs = append(dirs, filepath.Join(out, s.Name))
	}
	return dirs, filepath.Join(out, "final")
}

// Train runs continued masked-LM pretraining (HF run_mlm.py with Trainer)
// and returns where the model is. Each stage builds (or reuses) its token
// cache, trains MaxSteps steps or Epochs epochs, writes checkpoints every
// SaveSteps steps and at every epoch end, evaluates at every epoch end, and
// saves its final model; the next stage starts from that model with a fresh
// optimizer and schedule (the paper trained all = clin, then bio).
//
// One optimizer step t (from 0) of a stage with T steps and W warmup steps:
//
//	for each micro-batch k of the step's group of G (G = GradAccum, fewer
//	at the end of an epoch): L_k = mean cross-entropy over its masked
//	tokens (bert.ForMaskedLM.LossAt at the host-known masked
//	positions; in Precision); back-propagate L_k / G
//	g ← g · min(1, MaxGradNorm / (‖g‖₂ + 1e-6))            (clipping)
//	lr_t = LR · t/W for t < W, else LR · max(0, (T − t)/(T − W))
//	AdamW(lr_t), weight decay WeightDecay except on biases and LayerNorm
//	weights (optim.HFNoDecay); gradients zeroed
//
// The logged step loss is the mean of the L_k. Validation loss is the mean
// over all masked tokens of the held-out blocks, masked with fixed seeds
// (see Perplexity); perplexity = exp(loss). A model started from scratch
// is initialised after torch.manual_seed(Seed).
//
// Resuming reproduces the uninterrupted run exactly: a checkpoint holds the
// model, the AdamW state, the step (which fixes the schedule) and the data
// Position, and every random draw is a function of (Seed, Position, step),
// see RNGRule. When ctx is cancelled (Ctrl-C), the current step finishes, a
// checkpoint is written and Train returns an error wrapping ctx.Err(); run
// again with Resume to continue.
//
// All torch work runs on the calling goroutine, locked to its OS thread.
func Train(ctx context.Context, o TrainOptions) (res *Result, err error) {
	start := time.Now()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Device == (gotch.Device{}) {
		o.Device = gotch.CPU
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	v, _ := LookupVariant(o.Variant)
	stages, err := bindStages(v, o.Corpora)
	if err != nil {
		return nil, err
	}
	files := make([][]string, len(stages))
	for i, s := range stages {
		if files[i], err = ExpandPaths(s.Files); err != nil {
			return nil, fmt.Errorf("pretrain: stage %s: %w", s.Name, err)
		}
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("pretrain: %w", err)
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.OutDir, "cache")
	}
	dirs, final := stageDirs(o.OutDir, stages)
	if !o.Resume {
		for _, d := range dirs {
			if ck, ok := hasCheckpoints(d); ok {
				return nil, fmt.Errorf("pretrain: %s already holds checkpoints (%s): set Resume to continue that run, or choose another output directory", d, filepath.Base(ck))
			}
		}
	}

	res = &Result{FinalDir: final}
	src := initialSource(o)
	for i, s := range stages {
		stageFinal := final
		if i < len(stages)-1 {
			stageFinal = filepath.Join(dirs[i], "final")
		}
		sr, err := runStage(ctx, o, s.Name, files[i], dirs[i], stageFinal, src)
		if sr != nil {
			res.Stages = append(res.Stages, *sr)
		}
		if err != nil {
			res.Duration = time.Since(start)
			return res, err
		}
		src = modelSource{name: sr.FinalDir}
	}
	res.Duration = time.Since(start)
	logf(o.Log, "pretrain: final model in %s (%s)\n", final, res.Duration.Round(time.Second))
	return res, nil
}

// bindStages is Variant.Bind, where a key of corpora may also name a whole
// stage of v (e.g. "bio": the files of SciELO and PubMed together).
func bindStages(v Variant, corpora map[string][]string) ([]BoundStage, error) {
	isCorpus := map[string]bool{}
	for _, s := range v.Stages {
		for _, c := range s.Corpora {
			isCorpus[c] = true
		}
	}
	w := Variant{Name: v.Name, Description: v.Description}
	named := map[string][]string{}
	for k, p := range corpora {
		named[k] = p
	}
	for _, s := range v.Stages {
		if files, ok := corpora[s.Name]; ok && !isCorpus[s.Name] {
			key := "stage " + s.Name
			delete(named, s.Name)
			named[key] = files
			s = Stage{Name: s.Name, Corpora: []string{key}}
		}
		w.Stages = append(w.Stages, s)
	}
	return w.Bind(named)
}

// logf writes to w when it is not nil.
func logf(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}
