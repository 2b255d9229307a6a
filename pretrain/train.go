package pretrain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/engine"
)

// TrainOptions configures Train. Start from DefaultTrainOptions(): the
// embedded Options hold the paper's hyper-parameters and the training
// knobs shared with ner (OutDir, Resume, Device, Precision, LogSteps, …:
// see Options), the other fields say what to train and from what.
//
// OutDir receives, for a one-stage variant: checkpoint-<step>/
// directories, metrics.jsonl, run.json, cache/ and final/, the trained
// model. For all: OutDir/clin/ and OutDir/bio/ hold each stage's
// checkpoints and metrics, OutDir/clin/final is the clin model and
// OutDir/final the variant's (bio stage's) model. Required. SaveTotalLimit
// counts per stage. EvalEachEpoch needs a validation split
// (ValidationFraction > 0). Resume continues each stage from its latest
// good checkpoint (a stage whose final model exists is skipped).
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

	// CacheDir holds the token caches. Default "" means OutDir/cache.
	CacheDir string
	// Workers encoding the corpus in parallel when the cache is built;
	// 0 means runtime.GOMAXPROCS(0).
	Workers int

	// hooks are the engine's test switches (export_test.go).
	hooks engine.Hooks
}

// DefaultTrainOptions returns DefaultOptions() (the paper's
// hyper-parameters, CPU, evaluation each epoch, a metrics line every 10
// steps, every checkpoint kept) and variant custom.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Options: DefaultOptions(), Variant: "custom"}
}

// Validate names the first bad field.
func (o TrainOptions) Validate() error {
	if err := o.Options.Validate(); err != nil {
		return err
	}
	if err := o.Options.Options.ValidateOutDir(); err != nil {
		return fmt.Errorf("pretrain: train options: %w", err)
	}
	if err := o.Corpus.Validate(); err != nil {
		return err
	}
	if _, err := LookupVariant(o.Variant); err != nil {
		return err
	}
	switch {
	case len(o.Corpora) == 0:
		return errors.New("pretrain: train options: Corpora is empty (no corpus files)")
	case o.Model != "" && (o.Config != "" || o.Vocab != ""):
		return errors.New("pretrain: train options: set Model, or Config and Vocab (from scratch), not both")
	case o.Model == "" && (o.Config == "" || o.Vocab == ""):
		return errors.New("pretrain: train options: need Model, or Config and Vocab to start from scratch")
	case o.Workers < 0:
		return fmt.Errorf("pretrain: train options: Workers %d < 0", o.Workers)
	case o.EvalEachEpoch && o.ValidationFraction == 0:
		return errors.New("pretrain: train options: EvalEachEpoch needs a validation split (ValidationFraction > 0)")
	}
	return nil
}

// StepMetrics are the metrics of one optimizer step, as written to
// metrics.jsonl and given to OnStep.
type StepMetrics = engine.StepMetrics

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
// see RNGRule. When ctx is cancelled (Ctrl-C, SIGTERM), the current step
// finishes, a checkpoint is written and Train returns an error wrapping
// ctx.Err(); run again with Resume to continue.
//
// OutDir must not hold another run unless Resume (with the same data and
// hyper-parameters, checked against its run.json) or OverwriteOutputDir
// (the old run is moved aside); see engine.PrepareOutDir.
//
// All torch work runs on the calling goroutine, locked to its OS thread.
func Train(ctx context.Context, o TrainOptions) (res *Result, err error) {
	start := time.Now()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if !engine.IsOutDirWriter() {
		o.Log = nil // rank 0 of a data-parallel run reports
	}

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
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(o.OutDir, "cache")
	}
	if err := prepareOutDir(o, stages, files); err != nil {
		return nil, err
	}
	dirs, final := stageDirs(o.OutDir, stages)

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
