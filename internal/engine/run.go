package engine

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/dist"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/progress"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

// MetricsFile is the JSON-lines metrics log in a run's directory: a
// "train" line every LogSteps steps, the trainer's evaluation lines, and a
// "resume" line where a resumed run continues.
const MetricsFile = "metrics.jsonl"

// Config is what a trainer gives Open besides the options.
type Config struct {
	Options
	// Dir receives the checkpoints and metrics.jsonl; "" is OutDir. (A
	// pretraining variant with several stages runs one Run per stage
	// directory under OutDir.)
	Dir string
	// Name prefixes errors and messages: "ner: train", "pretrain: stage
	// clin".
	Name string
	// Stage names the run in StepMetrics and the progress bar; "" is
	// "train".
	Stage string
	// RNGRule describes how the task's random draws follow from the seed;
	// it is written to every checkpoint's rng_state, after the engine's
	// own rule for dropout.
	RNGRule string
	// Sync, when not nil, makes the gradients of all processes equal
	// before each update (GradientSync). nil for one process.
	Sync GradientSync
	// Hooks are switches for tests.
	Hooks Hooks
}

// Hooks are test switches; the zero value is what a real run uses.
type Hooks struct {
	// DeferReads reads the losses every LogSteps steps on the CPU too, as
	// on CUDA.
	DeferReads bool
	// ForceScaler enables fp16's loss scaler at any precision.
	ForceScaler bool
	// Fault, when set, is called at named points of the run ("step" after
	// every optimizer step, "checkpoint-start" before a checkpoint is
	// written, "checkpoint-files" once its model files are written but
	// before the optimizer state and the rename into place, "checkpoint"
	// after it is in place; trainers add their own): fault-injection tests
	// end the process or fill the disk there.
	Fault func(point string)
}

// Run is one training run: Open, then the trainer loads its model (from
// Checkpoint() when resuming), Start, Train, Close.
type Run struct {
	cfg  Config
	dir  string
	dev  gotch.Device
	lim  *torchutil.MemoryLimit
	ckpt *Checkpoint

	group *dist.Group   // nil: one process
	red   *dist.Reducer // the gradient all-reduce of a data-parallel run

	model  Model
	task   Task
	params []optim.Param
	opt    *optim.AdamW
	scaler *optim.GradScaler
	sched  optim.LinearSchedule
	nb     int // micro-batches per epoch
	spe    int // optimizer steps per epoch
	total  int // optimizer steps of the run

	step         int
	pos          Position
	epochLossSum float64
	epochLossN   int
	epochSeconds float64 // of the epoch in progress, before this call
	epochStart   time.Time
	lastLoss     float64
	stopped      bool
	skipped      int // fp16 steps skipped (this call)

	log       *progress.MetricsLog
	bar       *progress.Bar
	pending   []pendingStep
	lastFlush time.Time
	res       *Result
}

// Position is where a run stands in its data: the next micro-batch is
// number Batch (from 0) of epoch Epoch in the task's order of that epoch.
type Position struct {
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
}

// Result is what Train did.
type Result struct {
	// StartStep is the step this call started from (the resumed
	// checkpoint's, or 0), Steps the steps done in total and TotalSteps
	// the run's planned length.
	StartStep, Steps, TotalSteps int
	// Losses are the step losses of this call (from StartStep+1 on), one
	// per optimizer step (NaN for a step with nothing to learn).
	Losses []float64
	// Stopped: the task ended training early (EndEpoch), in this call or
	// in the run it resumed.
	Stopped bool
	// SyncSeconds is the wall time of this call's gradient all-reduces and
	// SyncBytes the gradient bytes each of them reduced (0 in one
	// process).
	SyncSeconds float64
	SyncBytes   int64
}

// Open starts a run: it checks the options, parses the device, sets the
// memory cap (before the model is loaded, so that the model counts) and,
// with Resume, finds the newest checkpoint of the run's directory that
// validates (trainstate.Latest, checksums included; one that does not is
// reported on Log and the previous one is used). The caller loads its
// model from Checkpoint().Dir when it is not nil, then calls Start.
// Preparing the output directory (PrepareOutDir) is the caller's, before
// Open.
func Open(cfg Config) (r *Run, err error) {
	if cfg.Name == "" {
		cfg.Name = "train"
	}
	if cfg.Stage == "" {
		cfg.Stage = "train"
	}
	if err := cfg.Options.Validate(); err != nil {
		return nil, fmt.Errorf("%s: options: %w", cfg.Name, err)
	}
	if err := cfg.Options.ValidateOutDir(); err != nil {
		return nil, fmt.Errorf("%s: options: %w", cfg.Name, err)
	}
	dir := cfg.Dir
	if dir == "" {
		dir = cfg.OutDir
	}
	r = &Run{cfg: cfg, dir: dir, lastLoss: math.NaN()}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	dev := cfg.Device
	if dev == "" {
		dev = "cpu"
	}
	if r.dev, err = torchutil.ParseDevice(dev); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	if err := openGroup(cfg, r); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	if r.lim, err = torchutil.LimitMemory(r.dev, cfg.MaxMemoryGiB); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	if cfg.Resume {
		if err := r.findCheckpoint(); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Device is the run's device.
func (r *Run) Device() gotch.Device { return r.dev }

// Dir is the run's directory (checkpoints, metrics.jsonl).
func (r *Run) Dir() string { return r.dir }

// Checkpoint is the checkpoint the run resumes (nil: it starts afresh).
func (r *Run) Checkpoint() *Checkpoint { return r.ckpt }

// StepsPerEpoch, TotalSteps and Step are known after Start: optimizer
// steps per epoch, in the run, and done.
func (r *Run) StepsPerEpoch() int { return r.spe }

// TotalSteps is the run's planned number of optimizer steps.
func (r *Run) TotalSteps() int { return r.total }

// Step is the number of optimizer steps done.
func (r *Run) Step() int { return r.step }

// Schedule is the run's learning-rate schedule (after Start).
func (r *Run) Schedule() optim.LinearSchedule { return r.sched }

// Start prepares training m with task: the precision, the fp16 loss
// scaler, AdamW over m's parameters and the linear schedule, and when
// resuming the optimizer state, the position, the loss sums and the
// scaler of the checkpoint (which must have been written by a run with the
// same schedule, steps per epoch and seed); then it opens metrics.jsonl,
// removing on resume the lines of steps after the checkpoint (written by
// the interrupted run, to be redone) and adding a "resume" line.
func (r *Run) Start(m Model, task Task) (err error) {
	defer torchutil.Recover(&err)
	o := r.cfg.Options
	if m == nil || task == nil {
		return fmt.Errorf("%s: Start: nil model or task", r.cfg.Name)
	}
	r.model, r.task = m, task
	prec, err := bert.ParsePrecision(string(o.Precision))
	if err == nil {
		err = m.SetPrecision(prec)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	var scalerState *optim.ScalerState
	if r.ckpt != nil {
		scalerState = r.ckpt.scaler
	}
	if r.scaler, err = optim.NewTrainingScaler(prec == bert.PrecisionFP16 || r.cfg.Hooks.ForceScaler, scalerState); err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	if r.nb = task.NumBatches(); r.nb < 1 {
		return fmt.Errorf("%s: no training batch", r.cfg.Name)
	}
	r.spe = (r.nb + o.GradAccum - 1) / o.GradAccum
	r.total = o.TotalSteps(r.spe)
	r.sched = optim.LinearSchedule{BaseLR: o.LR, Warmup: o.Warmup(r.total), Total: r.total}
	r.params = m.Parameters()
	if r.opt, err = optim.NewAdamW(r.params, optim.AdamWOptions{Beta1: o.AdamBeta1, Beta2: o.AdamBeta2, Eps: o.AdamEpsilon, WeightDecay: o.WeightDecay}); err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	if c := r.ckpt; c != nil {
		if err := r.restore(c); err != nil {
			return err
		}
	}
	if err := r.startGroup(); err != nil {
		return err
	}
	if !r.IsMain() {
		return nil
	}
	if r.log, err = openMetrics(filepath.Join(r.dir, MetricsFile), r.cfg.Resume, r.ckpt); err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	return nil
}

// restore sets the run's state from checkpoint c.
func (r *Run) restore(c *Checkpoint) error {
	in := c.info
	if w := max(in.WorldSize, 1); w != r.WorldSize() {
		return fmt.Errorf("%s: checkpoint %s was written by %d processes, this run has %d: resume with the same number of processes (the data order and the steps per epoch depend on it)",
			r.cfg.Name, c.Dir, w, r.WorldSize())
	}
	if (in.MaxSteps > 0 && in.MaxSteps != r.total) || (in.StepsPerEpoch > 0 && in.StepsPerEpoch != r.spe) || c.State.Seed != r.cfg.Seed {
		return fmt.Errorf("%s: checkpoint %s was written by another run (max_steps %d, steps_per_epoch %d, seed %d; this run: %d, %d, %d): resume with the same options and data",
			r.cfg.Name, c.Dir, in.MaxSteps, in.StepsPerEpoch, c.State.Seed, r.total, r.spe, r.cfg.Seed)
	}
	p := c.Position
	if p.Epoch < 0 || p.Batch < 0 || p.Batch > r.nb || c.Step > r.total {
		return fmt.Errorf("%s: checkpoint %s: position epoch %d batch %d at step %d does not fit this run (%d batches per epoch, %d steps)",
			r.cfg.Name, c.Dir, p.Epoch, p.Batch, c.Step, r.nb, r.total)
	}
	if p.Batch == r.nb {
		p = Position{Epoch: p.Epoch + 1}
	}
	if err := trainstate.LoadOptimizer(c.Dir, r.opt); err != nil {
		return fmt.Errorf("%s: resume from %s: %w", r.cfg.Name, c.Dir, err)
	}
	r.step, r.pos = c.Step, p
	r.epochLossSum, r.epochLossN, r.epochSeconds = c.data.LossSum, c.data.LossN, c.data.EpochSeconds
	_, _, _, r.lastLoss = c.Info()
	r.stopped = in.Stopped
	return nil
}

// Close frees the optimizer state, the memory cap and the metrics log. It
// does not free the model, which is the caller's.
func (r *Run) Close() {
	if r == nil {
		return
	}
	r.dropPending()
	if r.opt != nil {
		_ = r.opt.Close()
		r.opt = nil
	}
	if r.lim != nil {
		_ = r.lim.Close()
		r.lim = nil
	}
	if r.log != nil {
		_ = r.log.Close()
		r.log = nil
	}
	r.closeGroup()
}

// Say writes a message to Log on a line of its own (below a terminal
// progress bar).
func (r *Run) Say(format string, a ...any) { r.say(format, a...) }

func (r *Run) say(format string, a ...any) {
	w := r.cfg.Log
	if w == nil {
		return
	}
	if r.bar != nil && progress.IsTerminal(w) {
		fmt.Fprint(w, "\n")
	}
	fmt.Fprintf(w, format, a...)
}

// LogMetrics appends a line of kind (an "eval" or "epoch" line of the
// task) at step to metrics.jsonl. NaN values are written as null.
func (r *Run) LogMetrics(step int, kind string, values map[string]float64) error {
	if !r.IsMain() {
		return nil
	}
	if r.log == nil {
		return fmt.Errorf("%s: metrics log not open", r.cfg.Name)
	}
	if err := r.log.Log(int64(step), kind, values); err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	return nil
}

// Log is the writer of Options.Log (nil: silent, as on every rank but 0
// of a data-parallel run).
func (r *Run) Log() io.Writer { return r.cfg.Log }

// fault calls the fault hook of a test.
func (r *Run) fault(point string) {
	if f := r.cfg.Hooks.Fault; f != nil {
		f(point)
	}
}

// Train runs the optimizer steps from the current step to the end of the
// run. One optimizer step t (from 0) of a run of T steps with W warmup
// steps and accumulation groups of G micro-batches (fewer at the end of an
// epoch):
//
//	for each micro-batch k of the group: torch.manual_seed(DropoutSeed(Seed, t, k));
//	  L_k = the task's loss; back-propagate L_k/G (× the fp16 loss scale)
//	[GradientSync: average the gradients over the processes]
//	unscale (fp16; an overflow skips the update and halves the scale)
//	g ← g · min(1, MaxGradNorm / (‖g‖₂ + 1e-6))                  (clipping)
//	lr_t = LR · t/W for t < W, else LR · max(0, (T − t)/(T − W))
//	AdamW(lr_t), weight decay except on biases and LayerNorm weights; g ← 0
//
// The step's loss is the mean of its L_k. Nothing is read from the device
// during a step: losses and gradient norms wait on the device until a
// flush reads every pending step at once — every LogSteps steps, before
// an evaluation or a checkpoint, at the end, and after every step on the
// CPU or with OnStep — and then reach the progress bar, metrics.jsonl and
// OnStep in order. A non-finite loss ends training with an error naming
// the step.
//
// At the end of every epoch, and at the end of training, the task's
// EndEpoch runs; a checkpoint is written every SaveSteps steps, at every
// epoch end and at the end. When ctx is cancelled (Ctrl-C, SIGTERM), the
// step in progress finishes, a checkpoint is written and Train returns an
// error wrapping ctx.Err() that names the checkpoint; a later run with
// Resume continues exactly where this one stopped.
func (r *Run) Train(ctx context.Context) (res *Result, err error) {
	if r.opt == nil {
		return nil, fmt.Errorf("%s: Train before Start", r.cfg.Name)
	}
	o := r.cfg.Options
	r.res = &Result{StartStep: r.step, TotalSteps: r.total, Stopped: r.stopped}
	res = r.res
	defer func() { res.Steps = r.step }()
	if w := r.cfg.Log; w != nil {
		r.bar = progress.New(w, r.total, progress.Options{StartStep: r.step, Prefix: r.cfg.Stage})
		defer r.finishBar()
	}
	defer r.dropPending()
	flushEvery := o.LogSteps
	if flushEvery <= 0 {
		flushEvery = defaultFlushSteps
	}
	if !r.dev.IsCuda() && !r.cfg.Hooks.DeferReads {
		flushEvery = 1 // CPU ops are synchronous: reading costs nothing, and the bar stays live
	}
	r.epochStart = time.Now()
	r.lastFlush = r.epochStart
	if r.red != nil {
		defer r.saySync()
	}
	for r.step < r.total && !r.stopped {
		sctx, stop, err := r.agreeStop(ctx)
		if err != nil {
			return res, err
		}
		if stop {
			if ferr := r.flush(); ferr != nil {
				return res, ferr
			}
			return res, r.interrupt(sctx)
		}
		if err := r.trainStep(); err != nil {
			return res, err
		}
		r.fault("step")
		epochEnd := r.pos.Batch == r.nb
		last := r.step == r.total
		saveDue := (o.SaveSteps > 0 && r.step%o.SaveSteps == 0) || epochEnd || last
		if len(r.pending) >= flushEvery || r.step%flushEvery == 0 || epochEnd || last || saveDue || o.OnStep != nil {
			if err := r.flush(); err != nil {
				return res, err
			}
		}
		if epochEnd || last {
			e := EpochEnd{Epoch: r.pos.Epoch, Step: r.step, TrainLoss: r.epochLoss(), Partial: !epochEnd, Last: last,
				Seconds: r.epochSeconds + time.Since(r.epochStart).Seconds()}
			stop, err := r.task.EndEpoch(e)
			if err != nil {
				return res, err
			}
			if stop {
				r.stopped, res.Stopped = true, true
			}
		}
		if epochEnd {
			r.pos = Position{Epoch: r.pos.Epoch + 1}
			r.epochLossSum, r.epochLossN, r.epochSeconds = 0, 0, 0
			r.epochStart = time.Now()
		}
		if saveDue || r.stopped {
			if _, err := r.checkpoint(); err != nil {
				return res, err
			}
		}
	}
	return res, r.flush()
}

// defaultFlushSteps is how many steps may wait on the device before their
// losses are read when LogSteps is 0.
const defaultFlushSteps = 10

func (r *Run) epochLoss() float64 {
	if r.epochLossN == 0 {
		return math.NaN()
	}
	return r.epochLossSum / float64(r.epochLossN)
}

// pendingStep is an optimizer step whose loss and gradient norm have not
// been read from the device yet.
type pendingStep struct {
	m       StepMetrics // all but Loss and GradNorm
	lossSum *ts.Tensor  // sum of the micro-batch losses (nil: none had a label)
	n       int         // micro-batches in lossSum
	norm    *ts.Tensor  // total gradient norm before clipping (nil: no clipping, or skipped)
}

func (p *pendingStep) drop() {
	tensors.DropAll(p.lossSum, p.norm)
	p.lossSum, p.norm = nil, nil
}

// trainStep runs the micro-batches of one optimizer step and the update,
// and queues the step's metrics in r.pending.
func (r *Run) trainStep() (err error) {
	o := r.cfg.Options
	g := min(o.GradAccum, r.nb-r.pos.Batch)
	p := pendingStep{m: StepMetrics{Stage: r.cfg.Stage}}
	defer func() {
		if err != nil {
			p.drop()
			err = torchutil.WrapOOM(err, fmt.Sprintf("%s: step %d, batch %d on %s", r.cfg.Name, r.step+1, o.BatchSize, torchutil.DeviceString(r.dev)))
		}
	}()
	defer torchutil.Recover(&err)
	back := r.backward(g)
	for k := 0; k < g; k++ {
		mb := MicroBatch{Epoch: r.pos.Epoch, Index: r.pos.Batch + k, Step: r.step, Micro: k, GroupSize: g}
		torchutil.ManualSeed(DropoutSeed(o.Seed, r.step, k))
		l, toks, err := r.task.ForwardBackward(mb, back)
		if err != nil {
			return err
		}
		p.m.Tokens += toks
		if l == nil {
			continue
		}
		sum, err := tensors.Accumulate(p.lossSum, l)
		if err != nil {
			p.lossSum = nil // dropped by Accumulate
			return fmt.Errorf("%s: %w", r.cfg.Name, err)
		}
		p.lossSum = sum
		p.n++
	}
	if r.red != nil {
		t0 := time.Now()
		if err := r.red.Sync(); err != nil {
			return fmt.Errorf("%s: step %d: %w", r.cfg.Name, r.step+1, err)
		}
		r.res.SyncSeconds += time.Since(t0).Seconds()
		r.res.SyncBytes = r.red.Bytes()
	} else if r.cfg.Sync != nil {
		if err := r.cfg.Sync.SyncGradients(r.params); err != nil {
			return fmt.Errorf("%s: step %d: gradient sync: %w", r.cfg.Name, r.step+1, err)
		}
	}
	p.m.LR = r.sched.LR(r.step)
	var stepped bool
	if p.norm, stepped, err = r.opt.Update(r.scaler, o.MaxGradNorm, p.m.LR); err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	p.m.Skipped = !stepped
	if err := r.lim.Check(); err != nil {
		return fmt.Errorf("%s: step %d: %w", r.cfg.Name, r.step+1, err)
	}
	r.step++
	r.pos.Batch += g
	p.m.Step, p.m.Epoch = r.step, float64(r.step)/float64(r.spe)
	r.pending = append(r.pending, p)
	return nil
}

// backward returns the Backward of an accumulation group of g
// micro-batches.
func (r *Run) backward(g int) Backward {
	return func(loss *ts.Tensor) (out *ts.Tensor, err error) {
		defer torchutil.Recover(&err)
		s := tensors.NewScope()
		defer s.Drop()
		back := loss
		if g != 1 {
			sc := ts.FloatScalar(float64(g))
			back, err = loss.DivScalar(sc, false)
			runtime.KeepAlive(sc) // gotch frees scalars from finalizers, possibly while a C call still reads them
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.cfg.Name, err)
			}
			s.Add(back)
		}
		if back, err = r.scaler.Scale(back); err != nil {
			return nil, fmt.Errorf("%s: %w", r.cfg.Name, err)
		}
		s.Add(back)
		if err := back.Backward(); err != nil {
			return nil, fmt.Errorf("%s: backward: %w", r.cfg.Name, err)
		}
		if out, err = loss.Detach(false); err != nil {
			return nil, fmt.Errorf("%s: %w", r.cfg.Name, err)
		}
		return out, nil
	}
}

// flush reads the losses and gradient norms of the pending steps with one
// device→host copy, then reports each step in order: Result.Losses, the
// epoch's loss, the progress bar, metrics.jsonl (every LogSteps steps and
// the last) and OnStep.
func (r *Run) flush() (err error) {
	if len(r.pending) == 0 {
		return nil
	}
	defer r.dropPending()
	var list []*ts.Tensor
	toks := 0
	for _, p := range r.pending {
		list = append(list, p.lossSum, p.norm)
		toks += p.m.Tokens
	}
	vals, err := tensors.ReadScalars(list)
	if err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	if r.group != nil {
		loss, has, stoks := make([]float64, len(r.pending)), make([]bool, len(r.pending)), make([]int, len(r.pending))
		for i, p := range r.pending {
			if has[i] = p.lossSum != nil; has[i] {
				loss[i] = vals[2*i] / float64(p.n)
			}
			stoks[i] = p.m.Tokens
		}
		if err := r.combineLosses(loss, has, stoks); err != nil {
			return err
		}
		toks = 0
		for i := range r.pending {
			p := &r.pending[i]
			if has[i] {
				vals[2*i], p.n = loss[i], 1
				if p.lossSum == nil {
					p.lossSum = ts.MustOfSlice([]float32{0}) // a placeholder: this rank had none
				}
			}
			p.m.Tokens = stoks[i]
			toks += stoks[i]
		}
	}
	now := time.Now()
	tps := float64(toks) / math.Max(now.Sub(r.lastFlush).Seconds(), 1e-9)
	r.lastFlush = now
	o := r.cfg.Options
	for i, p := range r.pending {
		sm := p.m
		sm.Loss = math.NaN()
		if p.lossSum != nil {
			sm.Loss = vals[2*i] / float64(p.n)
			if math.IsNaN(sm.Loss) || math.IsInf(sm.Loss, 0) {
				return fmt.Errorf("%s: step %d: loss is %v (lower the learning rate?)", r.cfg.Name, sm.Step, sm.Loss)
			}
			r.lastLoss = sm.Loss
			r.epochLossSum += sm.Loss
			r.epochLossN++
		}
		if p.norm != nil {
			sm.GradNorm = vals[2*i+1]
		}
		if sm.Skipped {
			r.skipped++
		}
		r.res.Losses = append(r.res.Losses, sm.Loss)
		if r.bar != nil {
			r.bar.Update(sm.Step, progress.Fields{Loss: sm.Loss, LR: sm.LR, Tokens: int64(sm.Tokens), Epoch: sm.Epoch})
		}
		if o.LogSteps > 0 && (sm.Step%o.LogSteps == 0 || sm.Step == r.total) {
			vals := map[string]float64{"epoch": sm.Epoch, "loss": sm.Loss, "lr": sm.LR, "grad_norm": sm.GradNorm,
				"tokens": float64(sm.Tokens), "tokens_per_s": tps}
			if pk, err := torchutil.PeakMemory(r.dev); err == nil { // CUDA allocator's peak, or peak RSS on the CPU
				vals["peak_mem_gib"] = float64(pk.Allocated) / (1 << 30)
			}
			if r.scaler.Enabled() {
				vals["loss_scale"], vals["skipped_steps"] = r.scaler.ScaleValue(), float64(r.skipped)
			}
			if err := r.LogMetrics(sm.Step, "train", vals); err != nil {
				return err
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
func (r *Run) dropPending() {
	for i := range r.pending {
		r.pending[i].drop()
	}
	r.pending = r.pending[:0]
}

// interrupt writes a checkpoint after a cancellation and returns the error
// to report, which wraps ctx.Err().
func (r *Run) interrupt(ctx context.Context) error {
	err := ctx.Err()
	by := ""
	if cause := context.Cause(ctx); cause != nil && cause != err {
		by = " by " + cause.Error()
	}
	r.finishBar()
	if r.step == r.res.StartStep {
		if r.ckpt != nil {
			return fmt.Errorf("%s: interrupted%s before any step; the run can still resume from %s: %w", r.cfg.Name, by, r.ckpt.Dir, err)
		}
		return fmt.Errorf("%s: interrupted%s before the first step (nothing to save): %w", r.cfg.Name, by, err)
	}
	r.epochSeconds += time.Since(r.epochStart).Seconds()
	r.epochStart = time.Now()
	dir, cerr := r.checkpoint()
	if cerr != nil {
		return fmt.Errorf("%s: interrupted at step %d%s, and the checkpoint could not be written: %v: %w", r.cfg.Name, r.step, by, cerr, err)
	}
	return fmt.Errorf("%s: interrupted at step %d of %d (epoch %d, batch %d)%s; resumable checkpoint %s (run again with resume to continue): %w",
		r.cfg.Name, r.step, r.total, r.pos.Epoch+1, r.pos.Batch, by, dir, err)
}

// finishBar draws the bar's last state and ends its line.
func (r *Run) finishBar() {
	if r.bar != nil {
		_ = r.bar.Finish()
		r.bar = nil
	}
}
