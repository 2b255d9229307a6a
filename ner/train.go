package ner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/progress"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// Files and directories Train writes in TrainOptions.OutDir.
const (
	BestDirName        = "best"                 // the best model: a HF model directory
	CheckpointPrefix   = "checkpoint-"          // checkpoint-<step>/: the resumable training state (internal/trainstate)
	MetricsFileName    = "metrics.jsonl"        // one JSON object per step and per epoch
	TestReportName     = "test_report.txt"      // seqeval-style report of the test split
	TestReportJSONName = "test_report.json"     // the same as JSON (metrics.Report)
	TestConllevalName  = "test_conlleval.txt"   // conlleval.pl's report of the test split
	TestPredName       = "test_predictions.txt" // word gold predicted, conlleval's input format
)

// EpochResult records one epoch of training.
type EpochResult struct {
	Epoch     int     `json:"epoch"` // 1-based
	Step      int     `json:"step"`  // optimizer steps done at its end
	TrainLoss float64 `json:"train_loss"`
	// Dev scores (micro, conlleval-compatible); -1 when not evaluated.
	DevPrecision float64 `json:"dev_precision"`
	DevRecall    float64 `json:"dev_recall"`
	DevF1        float64 `json:"dev_f1"`
	Seconds      float64 `json:"seconds"`
}

// TrainResult is what Train returns.
type TrainResult struct {
	// BestDir is the best model's directory (OutDir/best): config.json with
	// id2label, model.safetensors and the tokenizer files. Load it with Load.
	BestDir string
	// Labels are the model's labels in id order (config.json id2label).
	Labels []string
	// BestEpoch (1-based) and BestDevF1: the epoch whose model is in
	// BestDir and its dev micro F1 (-1 when no dev evaluation ran; BestDir
	// then holds the last epoch's model).
	BestEpoch int
	BestDevF1 float64
	// Epochs lists every finished epoch, resumed ones included.
	Epochs []EpochResult
	// Steps is the number of optimizer steps done.
	Steps int
	// Test is the best model's evaluation on the test split (nil without one).
	Test *Evaluation
	// StoppedEarly is set when EarlyStopping ended training.
	StoppedEarly bool
}

// Train fine-tunes a BERT encoder with a fresh token-classification head
// (BioBERTpt's NER recipe, see TrainOptions) and writes to o.OutDir:
// best/ (the model with the best dev micro F1, a HF model directory with
// the tokenizer), checkpoint-<step>/ directories (the state to resume from,
// written at the end of every epoch and on cancellation, the newest
// KeepCheckpoints kept), metrics.jsonl and,
// when split.Test has documents, the test report (TestReportName,
// TestReportJSONName, TestConllevalName, TestPredName).
//
// modelDirOrName is a model directory (config.json, model.safetensors) or a
// name bert.FromPretrained resolves. The labels are Labels(split.Train,
// o.Scheme); every split is read in its own scheme and converted to
// o.Scheme. Each sentence is encoded whole, or cut into overlapping windows
// of at most o.MaxLen sub-tokens, so nothing is truncated, in training or
// evaluation; a word's prediction comes from the window where its first
// sub-token has the most context.
//
// Each epoch visits the training windows in an order seeded by (o.Seed,
// epoch). When ctx is cancelled, Train finishes the optimizer step in
// progress, saves a checkpoint and returns an error wrapping ctx.Err();
// with o.Resume a later call continues from the newest valid checkpoint
// (from the next batch, with the same order; only dropout draws differ
// from an uninterrupted run). A corrupt or half-written newest checkpoint
// is skipped for the previous good one (trainstate.Latest).
//
// All torch work runs on the calling goroutine, locked to its OS thread for
// the duration of the call.
func Train(ctx context.Context, modelDirOrName string, tok *tokenize.Tokenizer, split Split, o TrainOptions) (res *TrainResult, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer torchutil.Recover(&err)
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, errors.New("ner: train: nil tokenizer")
	}
	if split.Train == nil || len(split.Train.Documents) == 0 {
		return nil, errors.New("ner: train: the training split has no documents")
	}
	tr, err := newTrainer(ctx, modelDirOrName, tok, split, o)
	if err != nil {
		return nil, err
	}
	defer tr.close()
	return tr.run()
}

// corpusData is one split prepared for the model.
type corpusData struct {
	words [][]string
	gold  [][]string // tags in o.Scheme
	exs   []example
	sws   []sentenceWindows
}

func flatten(c *Corpus, to Scheme) (words, tags [][]string, err error) {
	if c == nil {
		return nil, nil, nil
	}
	for _, d := range c.Documents {
		for si, s := range d.Sentences {
			if len(s.Words) == 0 {
				continue
			}
			t := s.Tags
			if c.Scheme != to {
				t, err = ConvertTags(s.Tags, c.Scheme, to)
				if err != nil {
					return nil, nil, fmt.Errorf("document %s sentence %d: %w", d.ID, si+1, err)
				}
			}
			if len(t) != len(s.Words) {
				return nil, nil, fmt.Errorf("document %s sentence %d: %d words but %d tags", d.ID, si+1, len(s.Words), len(t))
			}
			words = append(words, s.Words)
			tags = append(tags, t)
		}
	}
	return words, tags, nil
}

type trainer struct {
	ctx   context.Context
	tok   *tokenize.Tokenizer
	o     TrainOptions
	dev   gotch.Device
	ls    *labelSet
	train corpusData
	devd  corpusData
	test  corpusData

	m       *bert.ForTokenClassification
	params  []optim.Param
	opt     *optim.AdamW
	sched   optim.LinearSchedule
	weights []float64
	state   trainerState
	log     *progress.MetricsLog
	bar     *progress.Bar

	epochStart time.Time
	pending    []pendingStep // steps not yet read from the device (see flush)
	lastFlush  time.Time
	scaler     *optim.GradScaler // fp16 loss scaling (disabled at other precisions)
	static     *staticStep       // fixed-shape (CUDA-graph) path; nil: dynamic shapes
	lim        *torchutil.MemoryLimit
	skipped    int // fp16 steps skipped for overflowing gradients (this run)
}

func newTrainer(ctx context.Context, model string, tok *tokenize.Tokenizer, split Split, o TrainOptions) (_ *trainer, err error) {
	tr := &trainer{ctx: ctx, tok: tok, o: o}
	defer func() {
		if err != nil {
			tr.close()
		}
	}()
	if tr.dev, err = torchutil.ParseDevice(o.Device); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	if o.CUDAGraph && (!tr.dev.IsCuda() || !bbshim.HasGraphs()) {
		return nil, errNoGraphs
	}
	if o.CUDAGraph || o.fixedShapes {
		tr.static = &staticStep{useGPU: o.CUDAGraph}
	}
	// The cap is set before the model is loaded, so that it counts too.
	if tr.lim, err = torchutil.LimitMemory(tr.dev, o.MaxMemoryGiB); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	if err := checkSplitTags(split); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	labels := Labels(split.Train, o.Scheme)
	if tr.ls, err = newLabelSet(labels); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	prep := func(name string, c *Corpus, withLabels bool) (corpusData, error) {
		var d corpusData
		var err error
		if d.words, d.gold, err = flatten(c, o.Scheme); err != nil {
			return d, fmt.Errorf("ner: train: %s split: %w", name, err)
		}
		var ids [][]int
		if withLabels {
			ids = make([][]int, len(d.gold))
			for i, t := range d.gold {
				if ids[i], err = tr.ls.ids(t); err != nil {
					return d, fmt.Errorf("ner: train: %s sentence %d: %w", name, i+1, err)
				}
			}
		}
		if d.exs, d.sws, err = buildExamples(tok, d.words, ids, o.MaxLen, o.Stride, o.LabelAll); err != nil {
			return d, fmt.Errorf("ner: train: %s split: %w", name, err)
		}
		return d, nil
	}
	if tr.train, err = prep("train", split.Train, true); err != nil {
		return nil, err
	}
	if len(tr.train.exs) == 0 {
		return nil, errors.New("ner: train: the training split has no words")
	}
	if tr.devd, err = prep("dev", split.Dev, false); err != nil {
		return nil, err
	}
	if tr.test, err = prep("test", split.Test, false); err != nil {
		return nil, err
	}
	counts := make([]int, len(labels))
	for _, e := range tr.train.exs {
		for _, l := range e.labels {
			if l >= 0 {
				counts[l]++
			}
		}
	}
	if tr.weights, err = classWeights(labels, counts, o.ClassWeights, o.BalanceClasses); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}

	// Model: from the checkpoint when resuming, else the pretrained encoder
	// with a fresh head (seeded).
	var ckpt string
	resume := false
	if o.Resume {
		if ckpt, tr.state, resume, err = latestCheckpoint(o.OutDir); err != nil {
			return nil, err
		}
	}
	torchutil.ManualSeed(o.Seed)
	if resume {
		if !equalStrings(tr.state.Labels, labels) {
			return nil, fmt.Errorf("ner: train: resume %s: checkpoint labels %v differ from the training data's %v", ckpt, tr.state.Labels, labels)
		}
		if tr.m, _, err = bert.LoadForTokenClassification(ckpt, bert.LoadOptions{Device: tr.dev, Labels: labels}); err != nil {
			return nil, fmt.Errorf("ner: train: resume: %w", err)
		}
	} else {
		pm, _, err := bert.FromPretrained(model, bert.HeadTokenClassification, bert.LoadOptions{Device: tr.dev, Labels: labels, AllowNewHead: true})
		if err != nil {
			return nil, fmt.Errorf("ner: train: %w", err)
		}
		m, ok := pm.(*bert.ForTokenClassification)
		if !ok {
			return nil, fmt.Errorf("ner: train: %s did not load as a token-classification model", model)
		}
		tr.m = m
	}
	prec, err := bert.ParsePrecision(string(o.Precision))
	if err == nil {
		err = tr.m.SetPrecision(prec)
	}
	if err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	if tr.scaler, err = optim.NewTrainingScaler(prec == bert.PrecisionFP16 || o.forceScaler, tr.state.Scaler); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	if maxPos := tr.m.Config().MaxPositionEmbeddings; o.MaxLen > maxPos {
		return nil, fmt.Errorf("ner: train options: MaxLen %d > the model's max_position_embeddings %d", o.MaxLen, maxPos)
	}
	if v := tok.VocabSize(); v > tr.m.Config().VocabSize {
		return nil, fmt.Errorf("ner: train: the tokenizer has %d tokens but the model's vocab_size is %d", v, tr.m.Config().VocabSize)
	}
	for _, p := range tr.m.Parameters() {
		tr.params = append(tr.params, optim.Param{Name: p.Name, Tensor: p.Tensor})
	}
	ao := optim.DefaultAdamWOptions()
	ao.WeightDecay = o.WeightDecay
	if tr.opt, err = optim.NewAdamW(tr.params, ao); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	total := tr.stepsPerEpoch() * o.Epochs
	tr.sched = optim.LinearSchedule{BaseLR: o.LR, Warmup: optim.WarmupSteps(o.WarmupRatio, total), Total: total}
	if resume {
		if err := trainstate.LoadOptimizer(ckpt, tr.opt); err != nil {
			return nil, fmt.Errorf("ner: resume: %w", err)
		}
		tr.say("ner: train: resumed from %s (step %d, epoch %d, batch %d)\n", ckpt, tr.state.Step, tr.state.Epoch+1, tr.state.Batch)
	} else {
		tr.state = trainerState{Labels: labels, BestF1: -1, BestEpoch: 0, Seed: o.Seed, Scheme: o.Scheme}
	}
	if tr.log, err = progress.OpenMetricsLog(filepath.Join(o.OutDir, MetricsFileName), progress.MetricsOptions{}); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	tr.newBar()
	return tr, nil
}

func (tr *trainer) close() {
	tr.dropPending()
	tr.static.close()
	tr.static = nil
	if tr.lim != nil {
		_ = tr.lim.Close()
		tr.lim = nil
	}
	if tr.opt != nil {
		_ = tr.opt.Close()
		tr.opt = nil
	}
	if tr.m != nil {
		freeModel(tr.m)
		tr.m = nil
	}
	if tr.log != nil {
		_ = tr.log.Close()
		tr.log = nil
	}
}

func (tr *trainer) batchesPerEpoch() int {
	return (len(tr.train.exs) + tr.o.BatchSize - 1) / tr.o.BatchSize
}

func (tr *trainer) stepsPerEpoch() int {
	return (tr.batchesPerEpoch() + tr.o.GradAccum - 1) / tr.o.GradAccum
}

func (tr *trainer) run() (*TrainResult, error) {
	o := tr.o
	st := &tr.state
	evalDev := o.EvalEveryEpoch && len(tr.devd.exs) > 0
	stopped := false
	for ; st.Epoch < o.Epochs && !stopped; st.Epoch++ {
		start := time.Now()
		tr.epochStart = start
		tr.lastFlush = start
		batches := chunk(epochOrder(len(tr.train.exs), o.Seed, st.Epoch), o.BatchSize)
		for st.Batch < len(batches) {
			if err := tr.ctx.Err(); err != nil {
				return nil, tr.interrupt(err)
			}
			if o.MaxSteps > 0 && st.Step >= o.MaxSteps {
				stopped = true
				break
			}
			group := batches[st.Batch:min(st.Batch+o.GradAccum, len(batches))]
			if err := tr.step(group, st.Epoch); err != nil {
				return nil, err
			}
			st.Batch += len(group)
			if len(tr.pending) >= o.LogSteps || st.Step%o.LogSteps == 0 || o.onStep != nil || (!tr.dev.IsCuda() && !o.deferReads) {
				if err := tr.flush(); err != nil {
					return nil, err
				}
			}
			if o.onStep != nil {
				o.onStep(st.Step)
			}
		}
		if err := tr.flush(); err != nil {
			return nil, err
		}
		if stopped && st.Batch < len(batches) {
			break // MaxSteps inside the epoch: no epoch result
		}
		ep := EpochResult{Epoch: st.Epoch + 1, Step: st.Step, TrainLoss: st.epochLoss(), DevPrecision: -1, DevRecall: -1, DevF1: -1}
		better := !evalDev
		if evalDev {
			ev, err := tr.evaluate(tr.devd)
			if err != nil {
				return nil, err
			}
			ep.DevPrecision, ep.DevRecall, ep.DevF1 = ev.Report.Micro.Precision, ev.Report.Micro.Recall, ev.Report.Micro.F1
			better = ep.DevF1 > st.BestF1
		}
		ep.Seconds = time.Since(start).Seconds() + st.EpochSeconds
		st.History = append(st.History, ep)
		if better {
			st.BestF1, st.BestEpoch, st.BestStep, st.BadEvals = ep.DevF1, ep.Epoch, ep.Step, 0
			if err := tr.saveModel(filepath.Join(o.OutDir, BestDirName)); err != nil {
				return nil, err
			}
		} else {
			st.BadEvals++
		}
		if err := tr.saveEpochDir(ep.Epoch); err != nil {
			return nil, err
		}
		if err := tr.log.Log(int64(ep.Step), "epoch", map[string]float64{"epoch": float64(ep.Epoch), "train_loss": ep.TrainLoss,
			"dev_precision": ep.DevPrecision, "dev_recall": ep.DevRecall, "dev_f1": ep.DevF1, "seconds": ep.Seconds}); err != nil {
			return nil, fmt.Errorf("ner: train: %w", err)
		}
		tr.epochLine(ep)
		st.Batch, st.LossSum, st.LossN, st.EpochSeconds = 0, 0, 0, 0
		if evalDev && o.EarlyStopping > 0 && st.BadEvals >= o.EarlyStopping {
			st.Stopped = true
			stopped = true
		}
		if _, err := tr.saveCheckpoint(st.Epoch + 1); err != nil {
			return nil, err
		}
	}
	tr.finishBar()
	res := &TrainResult{BestDir: filepath.Join(o.OutDir, BestDirName), Labels: tr.ls.names, BestEpoch: st.BestEpoch,
		BestDevF1: st.BestF1, Epochs: st.History, Steps: st.Step, StoppedEarly: st.Stopped}
	if st.BestEpoch == 0 || !fileExists(filepath.Join(res.BestDir, "config.json")) {
		// MaxSteps stopped before any epoch ended: keep the current model.
		if err := tr.saveModel(res.BestDir); err != nil {
			return nil, err
		}
	}
	if len(tr.test.exs) > 0 {
		ev, err := tr.testBest(res.BestDir)
		if err != nil {
			return nil, err
		}
		if err := ev.WriteFiles(o.OutDir, "test_"); err != nil {
			return nil, err
		}
		res.Test = ev
	}
	return res, nil
}

// step runs forward and backward over the batches of one accumulation group
// and one optimizer update. Nothing is read from the device: the step's
// loss and gradient norm wait in tr.pending until flush reads them.
func (tr *trainer) step(group [][]int, epoch int) (err error) {
	p := pendingStep{n: len(group)}
	defer func() {
		if err != nil {
			p.drop()
			err = torchutil.WrapOOM(err, fmt.Sprintf("ner: train step %d, batch %d × %d on %s",
				tr.state.Step+1, tr.o.BatchSize, tr.o.MaxLen, torchutil.DeviceString(tr.dev)))
		}
	}()
	defer torchutil.Recover(&err)
	static := tr.static != nil && len(group) == tr.o.GradAccum
	for i, idx := range group {
		var l *ts.Tensor
		var n int
		var err error
		if static {
			l, n, err = tr.staticForwardBackward(idx, i == 0)
		} else {
			l, n, err = tr.forwardBackward(idx, len(group))
		}
		if err != nil {
			return err
		}
		p.toks += n
		if l != nil {
			sum, err := tensors.Accumulate(p.lossSum, l)
			if err != nil {
				p.lossSum = nil // dropped by Accumulate
				return fmt.Errorf("ner: train: %w", err)
			}
			p.lossSum = sum
		}
	}
	p.lr = tr.sched.LR(tr.state.Step)
	var stepped bool
	if p.norm, stepped, err = tr.opt.Update(tr.scaler, tr.o.ClipNorm, p.lr); err != nil {
		return fmt.Errorf("ner: train: %w", err)
	}
	if !stepped {
		tr.skipped++
	}
	if err := tr.lim.Check(); err != nil {
		return fmt.Errorf("ner: train: step %d: %w", tr.state.Step+1, err)
	}
	tr.state.Step++
	p.step = tr.state.Step
	p.epoch = float64(epoch) + float64(tr.state.Batch+len(group))/float64(tr.batchesPerEpoch())
	tr.pending = append(tr.pending, p)
	return nil
}

// pendingStep is an optimizer step whose loss and gradient norm are still
// on the device.
type pendingStep struct {
	step    int
	epoch   float64    // fractional epoch at the end of the step
	lr      float64    // learning rate the step used
	n       int        // batches in the step's accumulation group
	toks    int        // real tokens of those batches
	lossSum *ts.Tensor // sum of the batch losses (nil: no batch had a label)
	norm    *ts.Tensor // gradient norm before clipping (nil: no clipping)
}

func (p *pendingStep) drop() {
	tensors.DropAll(p.lossSum, p.norm)
	p.lossSum, p.norm = nil, nil
}

// flush reads the losses and gradient norms of the pending steps with one
// device→host copy and reports each step in order: the epoch's loss sum,
// the progress bar and the metrics log (every LogSteps steps; tokens_per_s
// is the rate since the previous flush). A non-finite loss is an error
// naming its step.
func (tr *trainer) flush() (err error) {
	if len(tr.pending) == 0 {
		return nil
	}
	defer tr.dropPending()
	var list []*ts.Tensor
	for _, p := range tr.pending {
		list = append(list, p.lossSum, p.norm)
	}
	vals, err := tensors.ReadScalars(list)
	if err != nil {
		return fmt.Errorf("ner: train: %w", err)
	}
	now := time.Now()
	toks := 0
	for _, p := range tr.pending {
		toks += p.toks
	}
	tps := float64(toks) / math.Max(now.Sub(tr.lastFlush).Seconds(), 1e-9)
	tr.lastFlush = now
	for i, p := range tr.pending {
		loss, gnorm := 0.0, 0.0
		if p.lossSum != nil {
			loss = vals[2*i] / float64(p.n)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("ner: train: step %d: loss is %v (lower the learning rate?)", p.step, loss)
			}
		}
		if p.norm != nil {
			gnorm = vals[2*i+1]
		}
		tr.state.LossSum += loss
		tr.state.LossN++
		if tr.bar != nil {
			tr.bar.Update(p.step, progress.Fields{Loss: loss, LR: p.lr, Tokens: int64(p.toks), Epoch: p.epoch})
		}
		if p.step%tr.o.LogSteps == 0 {
			vals := map[string]float64{"epoch": p.epoch, "loss": loss, "lr": p.lr, "grad_norm": gnorm, "tokens_per_s": tps}
			if pk, err := torchutil.PeakMemory(tr.dev); err == nil { // CUDA allocator's peak, or peak RSS on the CPU
				vals["peak_mem_gib"] = float64(pk.Allocated) / (1 << 30)
			}
			if tr.scaler.Enabled() {
				vals["loss_scale"], vals["skipped_steps"] = tr.scaler.ScaleValue(), float64(tr.skipped)
			}
			if err := tr.log.Log(int64(p.step), "train", vals); err != nil {
				return fmt.Errorf("ner: train: %w", err)
			}
		}
	}
	return nil
}

// dropPending frees the pending steps' tensors and empties the list.
func (tr *trainer) dropPending() {
	for i := range tr.pending {
		tr.pending[i].drop()
	}
	tr.pending = tr.pending[:0]
}

// forwardBackward computes the mean loss of one batch, scaled by 1/accum,
// and accumulates its gradients. It returns the unscaled loss as a
// detached 0-dim tensor on the device (nil when the batch has no label to
// learn: its cross-entropy would be NaN) and the number of real tokens.
func (tr *trainer) forwardBackward(idx []int, accum int) (loss *ts.Tensor, toks int, err error) {
	defer torchutil.Recover(&err)
	b := makeBatch(tr.train.exs, idx, tr.tok.PAD())
	if b.labelToks == 0 {
		return nil, b.realToks, nil
	}
	s := tensors.NewScope()
	defer s.Drop()
	in, err := batchTensors(s, b, tr.dev)
	if err != nil {
		return nil, 0, fmt.Errorf("ner: train: %w", err)
	}
	labels, err := tensors.FromInt64s(b.labels, []int64{int64(b.b), int64(b.t)}, tr.dev)
	if err != nil {
		return nil, 0, fmt.Errorf("ner: train: %w", err)
	}
	s.Add(labels)
	if loss, err = tr.lossBackward(in, labels, accum); err != nil {
		return nil, 0, err
	}
	return loss, b.realToks, nil
}

// lossBackward computes the batch's mean loss, back-propagates it scaled
// by 1/accum (and by the fp16 loss scale) and returns the unscaled loss,
// detached, as a tensor the caller owns. It reads nothing from the device.
func (tr *trainer) lossBackward(in bert.Inputs, labels *ts.Tensor, accum int) (loss *ts.Tensor, err error) {
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	l, err := tr.m.Loss(in, labels, true, tr.weights)
	if err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	s.Add(l)
	back := l
	if accum > 1 {
		sc := ts.FloatScalar(1 / float64(accum))
		defer sc.MustDrop()
		if back, err = l.MulScalar(sc, false); err != nil {
			return nil, fmt.Errorf("ner: train: %w", err)
		}
		s.Add(back)
	}
	if back, err = tr.scaler.Scale(back); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	s.Add(back)
	if err := back.Backward(); err != nil {
		return nil, fmt.Errorf("ner: train: backward: %w", err)
	}
	if loss, err = l.Detach(false); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	return loss, nil
}

// evaluate predicts a split with the training model and scores it.
func (tr *trainer) evaluate(d corpusData) (*Evaluation, error) {
	ev, err := evaluateModel(tr.m, tr.dev, tr.tok.PAD(), d, tr.ls.names, tr.o.Scheme, tr.o.EvalBatchSize)
	return ev, torchutil.WrapOOM(err, fmt.Sprintf("ner: evaluate, batch %d × %d on %s (lower -eval-batch)",
		tr.o.EvalBatchSize, tr.o.MaxLen, torchutil.DeviceString(tr.dev)))
}

// testBest evaluates the model in dir (the best one) on the test split.
func (tr *trainer) testBest(dir string) (*Evaluation, error) {
	m, _, err := bert.LoadForTokenClassification(dir, bert.LoadOptions{Device: tr.dev})
	if err != nil {
		return nil, fmt.Errorf("ner: train: test: %w", err)
	}
	defer freeModel(m)
	return evaluateModel(m, tr.dev, tr.tok.PAD(), tr.test, tr.ls.names, tr.o.Scheme, tr.o.EvalBatchSize)
}

// evaluateModel tags d's sentences and scores them against d.gold.
func evaluateModel(m forwarder, dev gotch.Device, pad int, d corpusData, labels []string, s Scheme, batchSize int) (*Evaluation, error) {
	preds, err := predictExamples(m, d.exs, evalBatches(d.exs, batchSize), pad, dev)
	if err != nil {
		return nil, err
	}
	pred, _ := sentenceTags(d.sws, d.exs, preds, labels)
	return newEvaluation(d.words, d.gold, s, pred, schemeOfLabels(labels))
}

// saveEpochDir keeps OutDir/epoch-N when SaveTotalLimit > 0 and removes the
// epochs beyond the limit.
func (tr *trainer) saveEpochDir(epoch int) error {
	if tr.o.SaveTotalLimit <= 0 {
		return nil
	}
	if err := tr.saveModel(filepath.Join(tr.o.OutDir, fmt.Sprintf("epoch-%d", epoch))); err != nil {
		return err
	}
	if old := epoch - tr.o.SaveTotalLimit; old >= 1 {
		return os.RemoveAll(filepath.Join(tr.o.OutDir, fmt.Sprintf("epoch-%d", old)))
	}
	return nil
}

// interrupt saves the checkpoint after a cancellation and returns the error
// to report.
func (tr *trainer) interrupt(cause error) error {
	if err := tr.flush(); err != nil {
		return err
	}
	tr.finishBar()
	tr.state.EpochSeconds += time.Since(tr.epochStart).Seconds()
	dir, err := tr.saveCheckpoint(tr.state.Epoch)
	if err != nil {
		return fmt.Errorf("ner: train: interrupted (%v) and the checkpoint could not be saved: %w", cause, err)
	}
	return fmt.Errorf("ner: train: interrupted at step %d (epoch %d, batch %d); resumable checkpoint in %s: %w",
		tr.state.Step, tr.state.Epoch+1, tr.state.Batch, dir, cause)
}

// newBar starts the progress bar on o.Log (none without a writer).
func (tr *trainer) newBar() {
	tr.bar = nil
	if tr.o.Log != nil {
		tr.bar = progress.New(tr.o.Log, tr.sched.Total, progress.Options{StartStep: tr.state.Step, Prefix: "train"})
	}
}

// finishBar draws the bar's last state and ends its line.
func (tr *trainer) finishBar() {
	if tr.bar != nil {
		_ = tr.bar.Finish()
		tr.bar = nil
	}
}

// epochLine writes the epoch's summary on a line of its own.
func (tr *trainer) epochLine(e EpochResult) {
	dev := ""
	if e.DevF1 >= 0 {
		dev = fmt.Sprintf(" dev P %.4f R %.4f F1 %.4f", e.DevPrecision, e.DevRecall, e.DevF1)
	}
	tr.say("epoch %d: step %d train loss %.4f%s (%.1fs)\n", e.Epoch, e.Step, e.TrainLoss, dev, e.Seconds)
}

// say writes a message to o.Log on a line of its own (below a terminal
// progress bar).
func (tr *trainer) say(format string, a ...any) {
	if tr.o.Log == nil {
		return
	}
	if tr.bar != nil && progress.IsTerminal(tr.o.Log) {
		fmt.Fprint(tr.o.Log, "\n")
	}
	fmt.Fprintf(tr.o.Log, format, a...)
}

// freeModel releases a model's tensors now (bert's Close) instead of
// waiting for finalizers.
func freeModel(m interface{ Close() error }) {
	if m != nil {
		_ = m.Close()
	}
}
