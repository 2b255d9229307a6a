package pretrain

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/progress"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
	"github.com/biobertpt-go/biobertpt/tokenize"
	"github.com/sugarme/gotch/ts"
)

// metricsFile is the JSON-lines log of a stage, appended to across resumes.
const metricsFile = "metrics.jsonl"

// stage is the state of one running stage.
type stage struct {
	o        TrainOptions
	name     string
	dir      string
	m        *bert.ForMaskedLM
	tok      *tokenize.Tokenizer
	opt      *optim.AdamW
	params   []optim.Param
	batcher  *Batcher
	val      *evalSet
	sched    optim.LinearSchedule
	spe      int
	step     int
	evals    []EvalMetrics
	lastLoss float64
	metrics  *progress.MetricsLog
	bar      *progress.Bar
	pending  []pendingStep     // steps not yet read from the device (see loop)
	scaler   *optim.GradScaler // fp16 loss scaling (disabled at other precisions)
	lim      *torchutil.MemoryLimit
	skipped  int // fp16 steps skipped for overflowing gradients (this run)
}

// runStage trains one stage into dir, starting from src (or from the
// latest checkpoint of dir with Resume), and saves the model in finalDir.
func runStage(ctx context.Context, o TrainOptions, name string, files []string, dir, finalDir string, src modelSource) (sr *StageResult, err error) {
	sr = &StageResult{Name: name, Dir: dir, FinalDir: finalDir}
	if exists(finalDir) {
		if o.Resume {
			sr.Skipped = true
			logf(o.Log, "pretrain: stage %s: final model %s exists, skipped\n", name, finalDir)
			return sr, nil
		}
		return sr, fmt.Errorf("pretrain: stage %s: %s already exists: set Resume to keep it, or choose another output directory", name, finalDir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sr, fmt.Errorf("pretrain: %w", err)
	}

	var rp *resumePoint
	if o.Resume {
		if rp, err = loadLatestCheckpoint(dir, o.Device, o.Log); err != nil {
			return sr, err
		}
	}
	st := &stage{o: o, name: name, dir: dir}
	// The cap is set before the model is loaded, so that it counts too.
	if st.lim, err = torchutil.LimitMemory(o.Device, o.MaxMemoryGiB); err != nil {
		return sr, fmt.Errorf("pretrain: %w", err)
	}
	defer st.lim.Close()
	if rp != nil {
		st.m, st.tok = rp.model, rp.tok
		sr.Resumed = rp.dir
	} else {
		if st.m, st.tok, err = loadModel(ctx, src, o.Device, o.Seed); err != nil {
			return sr, err
		}
		if src.name != "" {
			logf(o.Log, "pretrain: stage %s: starting from %s\n", name, src.name)
		} else {
			logf(o.Log, "pretrain: stage %s: starting from scratch (%s, %s)\n", name, src.config, src.vocab)
		}
	}
	prec, err := bert.ParsePrecision(string(o.Precision))
	if err == nil {
		err = st.m.SetPrecision(prec)
	}
	if err != nil {
		return sr, fmt.Errorf("pretrain: %w", err)
	}
	var scalerState *optim.ScalerState
	if rp != nil {
		scalerState = rp.info.Scaler
	}
	if st.scaler, err = optim.NewTrainingScaler(prec == bert.PrecisionFP16 || o.forceScaler, scalerState); err != nil {
		return sr, fmt.Errorf("pretrain: %w", err)
	}
	cfg := st.m.Config()
	if o.BlockSize > cfg.MaxPositionEmbeddings {
		return sr, fmt.Errorf("pretrain: block size %d exceeds the model's max_position_embeddings %d", o.BlockSize, cfg.MaxPositionEmbeddings)
	}

	logf(o.Log, "pretrain: stage %s: reading %d file(s)\n", name, len(files))
	cache, err := BuildCache(ctx, files, st.tok, CacheOptions{Dir: o.CacheDir, Corpus: o.Corpus, Workers: o.Workers})
	if err != nil {
		return sr, err
	}
	defer cache.Close()
	sr.Cache = cache.Path()
	train, val, err := NewDatasets(cache, o.BlockOptions())
	if err != nil {
		return sr, err
	}
	sr.TrainBlocks, sr.ValidationBlocks = train.Len(), val.Len()
	masker, err := NewMasker(st.tok, o.MaskOptions())
	if err != nil {
		return sr, err
	}
	if st.batcher, err = NewBatcher(train, masker, o.BatchOptions()); err != nil {
		return sr, err
	}
	if o.EvalEachEpoch && val.Len() == 0 {
		logf(o.Log, "pretrain: stage %s: the validation documents (%d tokens) make no block of %d tokens: no validation\n", name, val.NumTokens(), o.BlockSize)
	}
	if o.EvalEachEpoch && val.Len() > 0 {
		st.val = &evalSet{ds: val, masker: masker, batch: o.BatchSize, seed: o.Seed}
	}
	st.spe = st.batcher.StepsPerEpoch()
	total := o.MaxSteps
	if total == 0 {
		total = o.Epochs * st.spe
	}
	warmup := o.WarmupSteps
	if warmup == 0 {
		warmup = optim.WarmupSteps(o.WarmupRatio, total)
	}
	st.sched = optim.LinearSchedule{BaseLR: o.LR, Warmup: warmup, Total: total}
	sr.TotalSteps = total

	st.params = optimParams(st.m)
	st.opt, err = optim.NewAdamW(st.params, optim.AdamWOptions{Beta1: o.AdamBeta1, Beta2: o.AdamBeta2, Eps: o.AdamEpsilon, WeightDecay: o.WeightDecay})
	if err != nil {
		return sr, fmt.Errorf("pretrain: %w", err)
	}
	defer st.opt.Close()
	if rp != nil {
		in := rp.info
		if in.MaxSteps != total || in.StepsPerEpoch != st.spe || in.Seed != o.Seed || in.Stage != name {
			return sr, fmt.Errorf("pretrain: checkpoint %s was written by another run (stage %s, max_steps %d, steps_per_epoch %d, seed %d; this run: stage %s, %d, %d, %d): resume with the same options and corpus", rp.dir, in.Stage, in.MaxSteps, in.StepsPerEpoch, in.Seed, name, total, st.spe, o.Seed)
		}
		if err := trainstate.LoadOptimizer(rp.dir, st.opt); err != nil {
			return sr, fmt.Errorf("pretrain: resume from %s: %w", rp.dir, err)
		}
		if err := st.batcher.Seek(rp.pos); err != nil {
			return sr, fmt.Errorf("pretrain: resume from %s: %w", rp.dir, err)
		}
		st.step, st.evals, st.lastLoss = rp.step, in.Evals, in.LastLoss
		sr.StartStep = rp.step
		logf(o.Log, "pretrain: stage %s: resumed from %s (step %d/%d, %v)\n", name, rp.dir, rp.step, total, rp.pos)
	}

	if st.metrics, err = progress.OpenMetricsLog(filepath.Join(dir, metricsFile), progress.MetricsOptions{}); err != nil {
		return sr, fmt.Errorf("pretrain: %w", err)
	}
	defer st.metrics.Close()

	logf(o.Log, "pretrain: stage %s: %d training blocks, %d validation blocks of %d tokens, %d steps (%d per epoch, warmup %d)\n",
		name, train.Len(), val.Len(), o.BlockSize, total, st.spe, warmup)
	err = st.loop(ctx, sr)
	sr.Steps = st.step
	if err != nil {
		return sr, err
	}
	if err := saveModelDir(finalDir, st.m, st.tok); err != nil {
		return sr, err
	}
	logf(o.Log, "pretrain: stage %s: model saved in %s\n", name, finalDir)
	return sr, nil
}

// loop runs the optimizer steps from st.step to the schedule's end.
//
// A step reads nothing from the device: its loss and gradient norm stay
// there (pendingStep) until a flush reads every pending step at once — at
// each log step, before an evaluation or a checkpoint, and at the end —
// so on CUDA the host queues step after step without waiting for the GPU,
// as HF's Trainer does between its logging_steps. The losses, the progress
// bar, the metrics log and OnStep see every step, in order, at the flush.
func (st *stage) loop(ctx context.Context, sr *StageResult) error {
	o := st.o
	total := st.sched.Total
	if o.Log != nil {
		st.bar = progress.New(o.Log, total, progress.Options{StartStep: st.step, Prefix: st.name})
		defer st.bar.Finish()
	}
	defer st.dropPending()
	flushEvery := o.LogSteps
	if flushEvery <= 0 {
		flushEvery = defaultFlushSteps
	}
	if !o.Device.IsCuda() && !o.deferReads {
		flushEvery = 1 // CPU ops are synchronous: reading costs nothing, and the bar stays live
	}
	lastEvalEpoch := -1
	if n := len(st.evals); n > 0 {
		lastEvalEpoch = (st.evals[n-1].Step + st.spe - 1) / st.spe
	}
	for st.step < total {
		if err := ctx.Err(); err != nil {
			if ferr := st.flush(sr); ferr != nil {
				return ferr
			}
			return st.interrupt(err)
		}
		if err := st.trainStep(); err != nil {
			return err
		}
		epochEnd := st.batcher.Position().Batch == 0
		evalDue := (epochEnd || st.step == total) && st.val != nil && (st.step+st.spe-1)/st.spe != lastEvalEpoch
		saveDue := (o.SaveSteps > 0 && st.step%o.SaveSteps == 0) || epochEnd || st.step == total
		if len(st.pending) >= flushEvery || st.step%flushEvery == 0 || evalDue || saveDue || o.OnStep != nil {
			if err := st.flush(sr); err != nil {
				return err
			}
		}
		if evalDue {
			em, err := st.evaluate()
			if err != nil {
				return err
			}
			lastEvalEpoch = (st.step + st.spe - 1) / st.spe
			st.evals = append(st.evals, em)
			sr.Evals = append(sr.Evals, em)
		}
		if saveDue {
			if _, err := st.checkpoint(); err != nil {
				return err
			}
		}
	}
	return st.flush(sr)
}

// defaultFlushSteps is how many steps may wait on the device before their
// losses are read when LogSteps is 0.
const defaultFlushSteps = 10

// pendingStep is an optimizer step whose loss and gradient norm have not
// been read from the device yet.
type pendingStep struct {
	m       StepMetrics // all but Loss and GradNorm
	lossSum *ts.Tensor  // sum of the micro-batch losses (nil: none had a masked token)
	n       int         // micro-batches in lossSum
	norm    *ts.Tensor  // total gradient norm before clipping (nil: no clipping)
}

// trainStep runs the micro-batches of one optimizer step and queues its
// metrics in st.pending.
func (st *stage) trainStep() (err error) {
	o := st.o
	ps := pendingStep{m: StepMetrics{Stage: st.name}}
	defer func() {
		if err != nil {
			tensors.DropAll(ps.lossSum, ps.norm)
			err = torchutil.WrapOOM(err, fmt.Sprintf("pretrain: stage %s step %d, batch %d × %d on %s",
				st.name, st.step+1, o.BatchSize, o.BlockSize, torchutil.DeviceString(o.Device)))
		}
	}()
	defer torchutil.Recover(&err)
	for {
		b, err := st.batcher.Next()
		if err != nil {
			return err
		}
		ps.m.Tokens += b.Tokens
		if len(b.MaskedPositions) > 0 {
			// Dropout masks are a function of (seed, step, micro): see RNGRule.
			torchutil.ManualSeed(int64(mix(o.Seed, 0x64726f70, uint64(st.step), uint64(b.Micro)) >> 1)) // "drop"
			l, err := batchLossTensor(st.m, b, o.Device, true, st.scaler, float64(b.GroupSize))
			if err != nil {
				return err
			}
			sum, err := tensors.Accumulate(ps.lossSum, l)
			if err != nil {
				ps.lossSum = nil // dropped by Accumulate
				return fmt.Errorf("pretrain: %w", err)
			}
			ps.lossSum = sum
			ps.n++
		}
		if b.Micro == b.GroupSize-1 {
			break
		}
	}
	ps.m.LR = st.sched.LR(st.step)
	var stepped bool
	if ps.norm, stepped, err = st.opt.Update(st.scaler, o.MaxGradNorm, ps.m.LR); err != nil {
		return fmt.Errorf("pretrain: %w", err)
	}
	ps.m.Skipped = !stepped
	if err := st.lim.Check(); err != nil {
		return fmt.Errorf("pretrain: stage %s step %d: %w", st.name, st.step+1, err)
	}
	st.step++
	ps.m.Step, ps.m.Epoch = st.step, float64(st.step)/float64(st.spe)
	st.pending = append(st.pending, ps)
	return nil
}

// flush reads the losses and gradient norms of the pending steps with one
// device→host copy, then reports each step in order: StageResult.Losses,
// the progress bar, the metrics log (every LogSteps steps and the last),
// OnStep. A non-finite loss is an error naming its step.
func (st *stage) flush(sr *StageResult) (err error) {
	if len(st.pending) == 0 {
		return nil
	}
	defer st.dropPending()
	var list []*ts.Tensor
	for _, p := range st.pending {
		list = append(list, p.lossSum, p.norm)
	}
	vals, err := tensors.ReadScalars(list)
	if err != nil {
		return fmt.Errorf("pretrain: %w", err)
	}
	o, total := st.o, st.sched.Total
	for i, p := range st.pending {
		sm := p.m
		sm.Loss = math.NaN()
		if p.lossSum != nil {
			sm.Loss = vals[2*i] / float64(p.n)
			if math.IsNaN(sm.Loss) || math.IsInf(sm.Loss, 0) {
				return fmt.Errorf("pretrain: stage %s: step %d: loss is %v (lower the learning rate?)", st.name, sm.Step, sm.Loss)
			}
			st.lastLoss = sm.Loss
		}
		if p.norm != nil {
			sm.GradNorm = vals[2*i+1]
		}
		if sm.Skipped {
			st.skipped++
		}
		sr.Losses = append(sr.Losses, sm.Loss)
		if st.bar != nil {
			st.bar.Update(sm.Step, progress.Fields{Loss: sm.Loss, LR: sm.LR, Tokens: int64(sm.Tokens), Epoch: sm.Epoch})
		}
		if o.LogSteps > 0 && (sm.Step%o.LogSteps == 0 || sm.Step == total) {
			vals := map[string]float64{"loss": sm.Loss, "lr": sm.LR, "grad_norm": sm.GradNorm, "epoch": sm.Epoch, "tokens": float64(sm.Tokens)}
			if pk, err := torchutil.PeakMemory(o.Device); err == nil { // CUDA allocator's peak, or peak RSS on the CPU
				vals["peak_mem_gib"] = float64(pk.Allocated) / (1 << 30)
			}
			if st.scaler.Enabled() {
				vals["loss_scale"], vals["skipped_steps"] = st.scaler.ScaleValue(), float64(st.skipped)
			}
			err := st.metrics.Log(int64(sm.Step), "train", vals)
			if err != nil {
				return fmt.Errorf("pretrain: %w", err)
			}
		}
		if o.OnStep != nil {
			o.OnStep(sm)
		}
	}
	return nil
}

// dropPending frees the device tensors of the pending steps and empties
// the list.
func (st *stage) dropPending() {
	for _, p := range st.pending {
		tensors.DropAll(p.lossSum, p.norm)
	}
	st.pending = st.pending[:0]
}

// evaluate computes the validation loss and perplexity and logs them.
func (st *stage) evaluate() (EvalMetrics, error) {
	loss, n, err := evaluate(context.Background(), st.m, *st.val, st.o.Device)
	if err != nil {
		return EvalMetrics{}, err
	}
	em := EvalMetrics{Stage: st.name, Step: st.step, Epoch: float64(st.step) / float64(st.spe), Loss: loss, Perplexity: math.Exp(loss), Tokens: n}
	err = st.metrics.Log(int64(st.step), "eval", map[string]float64{"eval_loss": em.Loss, "perplexity": em.Perplexity, "eval_tokens": float64(n), "epoch": em.Epoch})
	if err != nil {
		return em, fmt.Errorf("pretrain: %w", err)
	}
	st.say("pretrain: stage %s: epoch %.2f: eval_loss %.4f perplexity %.2f (%d masked tokens)\n", st.name, em.Epoch, em.Loss, em.Perplexity, em.Tokens)
	return em, nil
}

// checkpoint saves the current state.
func (st *stage) checkpoint() (string, error) {
	info := CheckpointInfo{Stage: st.name, MaxSteps: st.sched.Total, StepsPerEpoch: st.spe, WarmupSteps: st.sched.Warmup,
		Seed: st.o.Seed, LastLoss: st.lastLoss, Evals: st.evals, Options: st.o.Options}
	if st.scaler.Enabled() {
		sc := st.scaler.State()
		info.Scaler = &sc
	}
	path, err := saveCheckpoint(st.dir, st.step, st.batcher.Position(), info, st.m, st.tok, st.opt, st.o.SaveTotalLimit)
	if err != nil {
		return "", err
	}
	st.say("pretrain: stage %s: checkpoint %s\n", st.name, path)
	return path, nil
}

// interrupt writes a checkpoint after a cancellation and returns cause.
func (st *stage) interrupt(cause error) error {
	if st.step == 0 {
		return fmt.Errorf("pretrain: stage %s: interrupted before the first step: %w", st.name, cause)
	}
	path, err := st.checkpoint()
	if err != nil {
		return fmt.Errorf("pretrain: stage %s: interrupted (%v), and the checkpoint failed: %w", st.name, cause, err)
	}
	return fmt.Errorf("pretrain: stage %s: interrupted at step %d, checkpoint %s (run again with resume): %w", st.name, st.step, path, cause)
}

// say logs a message on a line of its own, below a terminal progress bar.
func (st *stage) say(format string, a ...any) {
	if st.bar != nil && progress.IsTerminal(st.o.Log) {
		logf(st.o.Log, "\n")
	}
	logf(st.o.Log, format, a...)
}

// keepAlive keeps x reachable until the deferred call runs (gotch frees
// scalars from finalizers, possibly while a C call still reads them).
func keepAlive(x any) { runtime.KeepAlive(x) }
