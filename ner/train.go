package ner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
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

// Best describes the model in BestDir for people: "epoch 7, dev micro F1
// 0.8669", or "epoch 2 (no dev evaluation: the last epoch's model)" when
// no dev split was evaluated (BestDevF1's -1 is never shown).
func (r *TrainResult) Best() string {
	if r.BestDevF1 < 0 {
		return fmt.Sprintf("epoch %d (no dev evaluation: the last epoch's model)", r.BestEpoch)
	}
	return fmt.Sprintf("epoch %d, dev micro F1 %.4f", r.BestEpoch, r.BestDevF1)
}

// Train fine-tunes a BERT encoder with a fresh token-classification head
// (BioBERTpt's NER recipe, see TrainOptions) and writes to o.OutDir:
// best/ (the model with the best dev micro F1, a HF model directory with
// the tokenizer), checkpoint-<step>/ directories (the state to resume from,
// written at the end of every epoch, every SaveSteps steps, at the end and
// on cancellation; the newest SaveTotalLimit kept), metrics.jsonl and,
// when split.Test has documents, the test report (TestReportName,
// TestReportJSONName, TestConllevalName, TestPredName).
//
// modelDirOrName is a model directory (config.json, model.safetensors), a
// name bert.FromPretrained resolves, or the path of a config.json file: a
// model of that configuration initialised at random after
// torch.manual_seed(o.Seed), the from-scratch baseline of a pretraining
// comparison (tok must then fit its vocab_size). The labels are Labels(split.Train,
// o.Scheme); every split is read in its own scheme and converted to
// o.Scheme. Each sentence is encoded whole, or cut into overlapping windows
// of at most o.MaxLen sub-tokens, so nothing is truncated, in training or
// evaluation; a word's prediction comes from the window where its first
// sub-token has the most context.
//
// The training loop is internal/engine's (see its Run.Train for one
// optimizer step); the loss is the model's token-classification
// cross-entropy (weighted by ClassWeights/BalanceClasses) over the
// labelled sub-tokens of a batch. Each epoch visits the training windows
// in an order seeded by (o.Seed, epoch), and dropout is reseeded before
// every micro-batch from (o.Seed, step, micro-batch). At the end of every
// epoch (and at the end of training, when MaxSteps ends it inside one) the
// dev split is evaluated and the better model kept in best/.
//
// When ctx is cancelled, Train finishes the optimizer step in progress,
// saves a checkpoint and returns an error wrapping ctx.Err(); with
// o.Resume a later call continues from the newest valid checkpoint and
// ends with the weights, checkpoints and best model of an uninterrupted
// run, bit for bit on the CPU. A corrupt or half-written newest checkpoint
// is skipped for the previous good one.
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
	tr, err := newTrainer(modelDirOrName, tok, split, o)
	if err != nil {
		return nil, err
	}
	defer tr.close()
	return tr.fit(ctx)
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

// trainer is NER's engine.Task: the prepared splits, the model and the
// dev-based model selection.
type trainer struct {
	crf          *crf                  // TrainOptions.CRF; nil without
	wordSplitter tokenize.WordSplitter // recorded in ModelConfigFile
	tok          *tokenize.Tokenizer
	o            TrainOptions
	ls           *labelSet
	train        corpusData
	devd         corpusData
	test         corpusData

	run     *engine.Run
	dev     gotch.Device
	m       *bert.ForTokenClassification
	weights []float64
	state   trainerState
	static  *staticStep // fixed-shape (CUDA-graph) path; nil: dynamic shapes

	devLabelled []example // the dev split with labels, for devLoss (built at first use)

	orderEpoch int     // epoch of batches
	batches    [][]int // the training windows' batches of orderEpoch
}

func newTrainer(model string, tok *tokenize.Tokenizer, split Split, o TrainOptions) (_ *trainer, err error) {
	tr := &trainer{tok: tok, o: o, orderEpoch: -1, wordSplitter: corpusSplitter(split.Train, o.WordSplitter)}
	defer func() {
		if err != nil {
			tr.close()
		}
	}()
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
	if err := PrepareOutDir(model, split, o); err != nil {
		return nil, err
	}
	// A crash while best/ was being replaced leaves the previous best/
	// moved aside: put it back.
	if _, err := atomicfile.RecoverDir(filepath.Join(o.OutDir, BestDirName)); err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}

	tr.run, err = engine.Open(engine.Config{Options: o.Options, Name: "ner: train", Stage: "train",
		RNGRule: "batches: PCG(seed, epoch) permutation of the training windows", Hooks: o.hooks.engine})
	if err != nil {
		return nil, err
	}
	tr.dev = tr.run.Device()
	if o.CUDAGraph && (!tr.dev.IsCuda() || !bbshim.HasGraphs()) {
		return nil, errNoGraphs
	}
	if o.CUDAGraph || o.hooks.fixedShapes {
		tr.static = &staticStep{useGPU: o.CUDAGraph}
	}

	// Model: from the checkpoint when resuming, else the pretrained encoder
	// with a fresh head (seeded).
	ckpt := tr.run.Checkpoint()
	torchutil.ManualSeed(o.Seed)
	if ckpt != nil {
		if tr.state, err = taskState(ckpt); err != nil {
			return nil, fmt.Errorf("ner: resume: %w", err)
		}
		if !slices.Equal(tr.state.Labels, labels) {
			return nil, fmt.Errorf("ner: train: resume %s: checkpoint labels %v differ from the training data's %v", ckpt.Dir, tr.state.Labels, labels)
		}
		if tr.m, _, err = bert.LoadForTokenClassification(ckpt.Dir, bert.LoadOptions{Device: tr.dev, Labels: labels}); err != nil {
			return nil, fmt.Errorf("ner: train: resume: %w", err)
		}
	} else if isConfigFile(model) {
		if tr.m, err = newFromConfig(model, labels, tr.dev); err != nil {
			return nil, err
		}
		tr.state = trainerState{Labels: labels, BestF1: -1, Scheme: o.Scheme}
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
		tr.state = trainerState{Labels: labels, BestF1: -1, Scheme: o.Scheme}
	}
	if maxPos := tr.m.Config().MaxPositionEmbeddings; o.MaxLen > maxPos {
		return nil, fmt.Errorf("ner: train options: MaxLen %d > the model's max_position_embeddings %d", o.MaxLen, maxPos)
	}
	if v := tok.VocabSize(); v > tr.m.Config().VocabSize {
		return nil, fmt.Errorf("ner: train: the tokenizer has %d tokens but the model's vocab_size is %d", v, tr.m.Config().VocabSize)
	}
	var em engine.Model = tr.m
	if o.CRF {
		if ckpt != nil {
			tr.crf, err = loadCRF(ckpt.Dir, len(labels), tr.dev)
		} else {
			tr.crf, err = newCRF(int64(len(labels)), tr.dev)
		}
		if err != nil {
			return nil, fmt.Errorf("ner: train: %w", err)
		}
		em = crfModel{tr.m, tr.crf}
	}
	if err := tr.run.Start(em, tr); err != nil {
		return nil, err
	}
	if ckpt != nil {
		tr.run.Say("ner: train: resumed from %s (step %d, epoch %d, batch %d)\n", ckpt.Dir, ckpt.Step, ckpt.Position.Epoch+1, ckpt.Position.Batch)
	}
	return tr, nil
}

// corpusSplitter returns the word splitter to record for a model trained
// on c: ws when set; else tokenize.SplitterBERT for a corpus read from text
// with standoff annotations (SemClinBr, BRAT: its words are
// tokenize.SplitWords of the text, and its sentences carry offsets), and
// tokenize.SplitterClinical for a corpus of given tokens (CLINpt, CoNLL).
func corpusSplitter(c *Corpus, ws tokenize.WordSplitter) tokenize.WordSplitter {
	if ws != "" {
		return ws
	}
	if c != nil {
		for _, d := range c.Documents {
			for _, s := range d.Sentences {
				if s.Starts != nil {
					return tokenize.SplitterBERT
				}
			}
		}
	}
	return tokenize.SplitterClinical
}

// isConfigFile reports whether model names a config.json file rather than
// a model directory or name.
func isConfigFile(model string) bool {
	st, err := os.Stat(model)
	return err == nil && st.Mode().IsRegular() && strings.HasSuffix(model, ".json")
}

// newFromConfig returns a randomly initialised token-classification model
// of the configuration in path, with labels (the caller seeds).
func newFromConfig(path string, labels []string, dev gotch.Device) (*bert.ForTokenClassification, error) {
	cfg, err := bert.LoadConfig(path)
	if err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	if err := cfg.SetLabels(labels); err != nil {
		return nil, fmt.Errorf("ner: train: %s: %w", path, err)
	}
	m, err := bert.NewForTokenClassification(cfg, dev)
	if err != nil {
		return nil, fmt.Errorf("ner: train: new model from %s: %w", path, err)
	}
	return m, nil
}

// crfModel is the model the engine trains with a CRF head: the
// token-classification model's parameters and the CRF's.
type crfModel struct {
	*bert.ForTokenClassification
	crf *crf
}

// Parameters lists the model's parameters, then the CRF's.
func (m crfModel) Parameters() []bert.Param {
	return append(m.ForTokenClassification.Parameters(), m.crf.params()...)
}

// crfLossBackward computes the CRF's mean negative log-likelihood per
// labelled token of the batch and back-propagates it through back.
func (tr *trainer) crfLossBackward(in bert.Inputs, q crfSequences, back engine.Backward) (loss *ts.Tensor, err error) {
	defer torchutil.Recover(&err)
	logits, err := tr.m.Forward(in, true) // (B, T, L)
	if err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	defer logits.MustDrop()
	l, err := tr.crf.nll(logits, q)
	if err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	defer l.MustDrop()
	return back(l)
}

// crfWeights returns the CRF's current weights on the host (nil without a
// CRF).
func (tr *trainer) crfWeights() (*crfWeights, error) {
	if tr.crf == nil {
		return nil, nil
	}
	return tr.crf.hostWeights()
}

func (tr *trainer) close() {
	tr.crf.drop()
	tr.crf = nil
	tr.static.close()
	tr.static = nil
	tr.run.Close()
	tr.run = nil
	if tr.m != nil {
		freeModel(tr.m)
		tr.m = nil
	}
}

// fit runs the engine's loop, then keeps the final model in best/ when
// no epoch ended (a resume of a finished run) and evaluates best/ on the
// test split.
func (tr *trainer) fit(ctx context.Context) (*TrainResult, error) {
	o := tr.o
	er, err := tr.run.Train(ctx)
	if err != nil {
		return nil, err
	}
	tr.fault("trained")
	st := &tr.state
	res := &TrainResult{BestDir: filepath.Join(o.OutDir, BestDirName), Labels: tr.ls.names, BestEpoch: st.BestEpoch,
		BestDevF1: st.BestF1, Epochs: st.History, Steps: er.Steps, StoppedEarly: er.Stopped}
	if st.BestEpoch == 0 || !fileExists(filepath.Join(res.BestDir, "config.json")) {
		if err := tr.saveModel(res.BestDir); err != nil {
			return nil, err
		}
	}
	if err := tr.run.Barrier(); err != nil { // best/ is rank 0's to write
		return nil, err
	}
	if len(tr.test.exs) > 0 {
		ev, err := tr.testBest(res.BestDir)
		if err != nil {
			return nil, err
		}
		if tr.run.IsMain() {
			if err := writeTestReports(ev, o.OutDir); err != nil {
				return nil, err
			}
		}
		res.Test = ev
	}
	if tr.run.IsMain() { // rank 0 writes best/'s card
		if err := tr.writeBestCard(res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// NumBatches is the number of training batches per epoch (engine.Task).
func (tr *trainer) NumBatches() int {
	return (tr.run.ShardLen(len(tr.train.exs)) + tr.o.BatchSize - 1) / tr.o.BatchSize
}

// epochBatches returns the training batches of an epoch: the windows in
// an order seeded by (Seed, epoch), this rank's shard of it
// (engine.Run.ShardOrder; all of it in one process), cut into batches of
// BatchSize.
func (tr *trainer) epochBatches(epoch int) [][]int {
	if tr.orderEpoch != epoch {
		tr.batches = chunk(tr.run.ShardOrder(epochOrder(len(tr.train.exs), tr.o.Seed, epoch)), tr.o.BatchSize)
		tr.orderEpoch = epoch
	}
	return tr.batches
}

// ForwardBackward computes the loss of one training batch and
// back-propagates it (engine.Task).
func (tr *trainer) ForwardBackward(mb engine.MicroBatch, back engine.Backward) (*ts.Tensor, int, error) {
	idx := tr.epochBatches(mb.Epoch)[mb.Index]
	if tr.static != nil && mb.GroupSize == tr.o.GradAccum {
		return tr.staticForwardBackward(idx, mb.Micro == 0, back)
	}
	return tr.forwardBackward(idx, back)
}

// forwardBackward computes the mean loss of one batch and back-propagates
// it through back. It returns the loss as a detached 0-dim tensor on the
// device (nil when the batch has no label to learn: its cross-entropy
// would be NaN) and the number of real tokens.
func (tr *trainer) forwardBackward(idx []int, back engine.Backward) (loss *ts.Tensor, toks int, err error) {
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
	if tr.crf != nil {
		loss, err = tr.crfLossBackward(in, crfBatchSequences(b.labels, b.b, b.t), back)
	} else {
		loss, err = tr.lossBackward(in, labels, back)
	}
	if err != nil {
		return nil, 0, err
	}
	return loss, b.realToks, nil
}

// lossBackward computes the batch's mean loss and back-propagates it
// through back, which returns it detached, as a tensor the caller owns.
// It reads nothing from the device.
func (tr *trainer) lossBackward(in bert.Inputs, labels *ts.Tensor, back engine.Backward) (loss *ts.Tensor, err error) {
	defer torchutil.Recover(&err)
	l, err := tr.m.Loss(in, labels, true, tr.weights)
	if err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	defer l.MustDrop()
	return back(l)
}

// EndEpoch evaluates the dev split, keeps the better model in best/ and
// the epoch's model in epoch-N/ (SaveEpochModels), logs the epoch and
// decides on early stopping (engine.Task).
func (tr *trainer) EndEpoch(e engine.EpochEnd) (stop bool, err error) {
	o := tr.o
	st := &tr.state
	evalDev := o.EvalEachEpoch && len(tr.devd.exs) > 0
	ep := EpochResult{Epoch: e.Epoch + 1, Step: e.Step, TrainLoss: e.TrainLoss, DevPrecision: -1, DevRecall: -1, DevF1: -1, Seconds: e.Seconds}
	if math.IsNaN(ep.TrainLoss) {
		ep.TrainLoss = 0
	}
	better := !evalDev
	if evalDev {
		ev, err := tr.evaluate(tr.devd)
		if err != nil {
			return false, err
		}
		ep.DevPrecision, ep.DevRecall, ep.DevF1 = ev.Report.Micro.Precision, ev.Report.Micro.Recall, ev.Report.Micro.F1
		better = ep.DevF1 > st.BestF1
	}
	st.History = append(st.History, ep)
	tr.fault("evaluated")
	if better {
		st.BestF1, st.BestEpoch, st.BestStep, st.BadEvals = ep.DevF1, ep.Epoch, ep.Step, 0
		if err := tr.saveModel(filepath.Join(o.OutDir, BestDirName)); err != nil {
			return false, err
		}
	} else {
		st.BadEvals++
	}
	if err := tr.saveEpochDir(ep.Epoch); err != nil {
		return false, err
	}
	vals := map[string]float64{"epoch": float64(ep.Epoch), "train_loss": ep.TrainLoss, "seconds": ep.Seconds}
	if evalDev {
		vals["dev_precision"], vals["dev_recall"], vals["dev_f1"] = ep.DevPrecision, ep.DevRecall, ep.DevF1
		if l, ok, err := tr.devLoss(); err != nil {
			return false, err
		} else if ok {
			vals["dev_loss"] = l
		}
	}
	if err := tr.run.LogMetrics(ep.Step, "epoch", vals); err != nil {
		return false, err
	}
	tr.epochLine(ep, e.Partial)
	return evalDev && o.EarlyStopping > 0 && st.BadEvals >= o.EarlyStopping, nil
}

// SaveModel writes the model, the tokenizer and ModelConfigFile into dir
// (engine.Task).
func (tr *trainer) SaveModel(dir string) error {
	if err := tr.m.Save(dir); err != nil {
		return err
	}
	if err := tr.tok.Save(dir); err != nil {
		return err
	}
	if tr.crf != nil {
		if err := saveCRF(dir, tr.crf); err != nil {
			return err
		}
	}
	return WriteModelConfig(dir, ModelConfig{WordSplitter: tr.wordSplitter})
}

// State is the trainer's part of a checkpoint (engine.Task).
func (tr *trainer) State() (engine.TaskState, error) {
	st := tr.state
	ts := engine.TaskState{Keys: st.keys()}
	if st.BestEpoch > 0 && st.BestF1 >= 0 {
		f1 := st.BestF1
		ts.BestScore, ts.BestStep = &f1, st.BestStep
	}
	return ts, nil
}

// evaluate predicts a split with the training model and scores it.
func (tr *trainer) evaluate(d corpusData) (*Evaluation, error) {
	w, err := tr.crfWeights()
	if err != nil {
		return nil, fmt.Errorf("ner: evaluate: %w", err)
	}
	ev, err := tr.evaluateShared(tr.m, d, w)
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
	w, err := loadCRFWeights(dir, len(tr.ls.names))
	if err != nil {
		return nil, fmt.Errorf("ner: train: test: %w", err)
	}
	return tr.evaluateShared(m, tr.test, w)
}

// evaluateModel tags d's sentences (decoded with dec and the CRF weights
// w, nil without a CRF) and scores them against d.gold.
func evaluateModel(m forwarder, dev gotch.Device, pad int, d corpusData, labels []string, s Scheme, batchSize int, dec Decode, w *crfWeights) (*Evaluation, error) {
	preds, err := predictExamples(m, d.exs, evalBatches(d.exs, batchSize), pad, dev)
	if err != nil {
		return nil, err
	}
	pred, _ := sentenceTags(d.sws, d.exs, preds, labels, dec, w)
	return newEvaluation(d.words, d.gold, s, pred, schemeOfLabels(labels))
}

// saveEpochDir keeps OutDir/epoch-N when SaveEpochModels > 0 and removes
// the epochs beyond the limit.
func (tr *trainer) saveEpochDir(epoch int) error {
	if tr.o.SaveEpochModels <= 0 || !tr.run.IsMain() {
		return nil
	}
	if err := tr.saveModel(filepath.Join(tr.o.OutDir, fmt.Sprintf("epoch-%d", epoch))); err != nil {
		return err
	}
	if old := epoch - tr.o.SaveEpochModels; old >= 1 {
		return removeModelDir(filepath.Join(tr.o.OutDir, fmt.Sprintf("epoch-%d", old)))
	}
	return nil
}

// epochLine writes the epoch's summary on a line of its own.
func (tr *trainer) epochLine(e EpochResult, partial bool) {
	dev := ""
	if e.DevF1 >= 0 {
		dev = fmt.Sprintf(" dev P %.4f R %.4f F1 %.4f", e.DevPrecision, e.DevRecall, e.DevF1)
	}
	end := ""
	if partial {
		end = " (MaxSteps reached inside the epoch)"
	}
	tr.run.Say("epoch %d: step %d train loss %.4f%s (%.1fs)%s\n", e.Epoch, e.Step, e.TrainLoss, dev, e.Seconds, end)
}

// freeModel releases a model's tensors now (bert's Close) instead of
// waiting for finalizers.
func freeModel(m interface{ Close() error }) {
	if m != nil {
		_ = m.Close()
	}
}
