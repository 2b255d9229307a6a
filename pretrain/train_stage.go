package pretrain

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// metricsFile is the JSON-lines log of a stage, appended to across resumes.
const metricsFile = engine.MetricsFile

// stage is one running stage: the engine.Task of masked-LM pretraining.
type stage struct {
	o       TrainOptions
	name    string
	run     *engine.Run
	dev     gotch.Device
	m       *bert.ForMaskedLM
	tok     *tokenize.Tokenizer
	batcher *Batcher
	val     *evalSet
	evals   []EvalMetrics
	sr      *StageResult
}

// stageKeys are the stage's keys in a checkpoint's options (with the
// engine's max_steps, steps_per_epoch, warmup_steps, seed, last_loss they
// make CheckpointInfo).
type stageKeys struct {
	Stage   string        `json:"stage"`
	Evals   []EvalMetrics `json:"eval_history,omitempty"`
	Options Options       `json:"hyperparameters"`
}

// runStage trains one stage into dir, starting from src (or from the
// latest checkpoint of dir with Resume), and saves the model in finalDir.
func runStage(ctx context.Context, o TrainOptions, name string, files []string, dir, finalDir string, src modelSource) (sr *StageResult, err error) {
	sr = &StageResult{Name: name, Dir: dir, FinalDir: finalDir}
	// A crash while final/ was being written leaves a temporary directory
	// (or, replacing one, the old one moved aside): clean up, restore.
	if engine.IsOutDirWriter() {
		if _, err := atomicfile.RecoverDir(finalDir); err != nil {
			return sr, fmt.Errorf("pretrain: %w", err)
		}
	}
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
	st := &stage{o: o, name: name, sr: sr}
	eo := o.Options.Options
	st.run, err = engine.Open(engine.Config{Options: eo, Dir: dir, Name: "pretrain: stage " + name, Stage: name, RNGRule: RNGRule, Hooks: o.hooks})
	if err != nil {
		return sr, err
	}
	defer st.run.Close()
	st.dev = st.run.Device()
	ckpt := st.run.Checkpoint()
	if ckpt != nil {
		var keys stageKeys
		if err := json.Unmarshal(ckpt.Options, &keys); err != nil {
			return sr, fmt.Errorf("pretrain: checkpoint %s: options: %w", ckpt.Dir, err)
		}
		if keys.Stage != name {
			return sr, fmt.Errorf("pretrain: checkpoint %s was written by stage %s, not %s: resume with the same options and corpus", ckpt.Dir, keys.Stage, name)
		}
		st.evals = keys.Evals
		if st.tok, err = tokenize.Load(ckpt.Dir); err != nil {
			return sr, fmt.Errorf("pretrain: checkpoint %s: %w", ckpt.Dir, err)
		}
		if st.m, _, err = bert.LoadForMaskedLM(ckpt.Dir, bert.LoadOptions{Device: st.dev}); err != nil {
			return sr, fmt.Errorf("pretrain: checkpoint %s: %w", ckpt.Dir, err)
		}
		sr.Resumed = ckpt.Dir
	} else {
		if st.m, st.tok, err = loadModel(ctx, src, st.dev, o.Seed); err != nil {
			return sr, err
		}
		if src.name != "" {
			logf(o.Log, "pretrain: stage %s: starting from %s\n", name, src.name)
		} else {
			logf(o.Log, "pretrain: stage %s: starting from scratch (%s, %s)\n", name, src.config, src.vocab)
		}
	}
	defer st.m.Close()
	cfg := st.m.Config()
	if o.BlockSize > cfg.MaxPositionEmbeddings {
		return sr, fmt.Errorf("pretrain: block size %d exceeds the model's max_position_embeddings %d", o.BlockSize, cfg.MaxPositionEmbeddings)
	}

	st.fault("stage-start")
	logf(o.Log, "pretrain: stage %s: reading %d file(s)\n", name, len(files))
	var cache *Cache
	err = st.run.MainFirst(func() (err error) { // rank 0 builds the cache, the others open it
		cache, err = BuildCache(ctx, files, st.tok, CacheOptions{Dir: o.CacheDir, Corpus: o.Corpus, Workers: o.Workers})
		return err
	})
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
	bo := o.BatchOptions()
	bo.Rank, bo.WorldSize = st.run.Rank(), st.run.WorldSize()
	if st.batcher, err = NewBatcher(train, masker, bo); err != nil {
		return sr, err
	}
	if o.EvalEachEpoch && val.Len() == 0 {
		logf(o.Log, "pretrain: stage %s: the validation documents (%d tokens) make no block of %d tokens: no validation\n", name, val.NumTokens(), o.BlockSize)
	}
	if o.EvalEachEpoch && val.Len() > 0 {
		st.val = &evalSet{ds: val, masker: masker, batch: o.BatchSize, seed: uint64(o.Seed), part: st.run.Rank(), parts: st.run.WorldSize()}
	}
	if err := st.run.Start(st.m, st); err != nil {
		return sr, err
	}
	spe, total, warmup := st.run.StepsPerEpoch(), st.run.TotalSteps(), st.run.Schedule().Warmup
	sr.TotalSteps = total
	if ckpt != nil {
		sr.StartStep = ckpt.Step
		logf(o.Log, "pretrain: stage %s: resumed from %s (step %d/%d, epoch %d batch %d)\n", name, ckpt.Dir, ckpt.Step, total, ckpt.Position.Epoch, ckpt.Position.Batch)
	}
	logf(o.Log, "pretrain: stage %s: %d training blocks, %d validation blocks of %d tokens, %d steps (%d per epoch, warmup %d)\n",
		name, train.Len(), val.Len(), o.BlockSize, total, spe, warmup)
	res, err := st.run.Train(ctx)
	if res != nil {
		sr.Losses = res.Losses
		sr.Steps = res.Steps
	}
	if err != nil {
		return sr, err
	}
	st.fault("trained")
	if st.run.IsMain() {
		if err := saveModelDir(finalDir, st.m, st.tok); err != nil {
			return sr, err
		}
	}
	if err := st.run.Barrier(); err != nil { // the next stage starts from finalDir
		return sr, err
	}
	if err := st.writeFinalCard(finalDir, sr); err != nil {
		return sr, err
	}
	logf(o.Log, "pretrain: stage %s: model saved in %s\n", name, finalDir)
	return sr, nil
}

// NumBatches is the number of micro-batches per epoch (engine.Task).
func (st *stage) NumBatches() int { return st.batcher.NumBatches() }

// ForwardBackward computes the masked-LM loss of one micro-batch and
// back-propagates it (engine.Task).
func (st *stage) ForwardBackward(mb engine.MicroBatch, back engine.Backward) (*ts.Tensor, int, error) {
	b, err := st.batcher.At(Position{Epoch: mb.Epoch, Batch: mb.Index})
	if err != nil {
		return nil, 0, err
	}
	if len(b.MaskedPositions) == 0 {
		return nil, b.Tokens, nil
	}
	l, err := batchLossTensor(st.m, b, st.dev, true, back)
	if err != nil {
		return nil, 0, err
	}
	return l, b.Tokens, nil
}

// EndEpoch computes the validation loss and perplexity and logs them
// (engine.Task).
func (st *stage) EndEpoch(e engine.EpochEnd) (bool, error) {
	if st.val == nil {
		return false, nil
	}
	sum, n, err := evaluateSum(context.Background(), st.m, *st.val, st.dev)
	if err != nil {
		return false, err
	}
	tot, err := st.run.SumFloat64([]float64{sum, float64(n)}) // the ranks' shares of the validation set
	if err != nil {
		return false, err
	}
	if tot[1] == 0 {
		return false, errNoMasked
	}
	loss, n := tot[0]/tot[1], int64(tot[1])
	em := EvalMetrics{Stage: st.name, Step: e.Step, Epoch: float64(e.Step) / float64(st.run.StepsPerEpoch()), Loss: loss, Perplexity: math.Exp(loss), Tokens: n}
	err = st.run.LogMetrics(e.Step, "eval", map[string]float64{"eval_loss": em.Loss, "perplexity": em.Perplexity, "eval_tokens": float64(n), "epoch": em.Epoch})
	if err != nil {
		return false, err
	}
	st.run.Say("pretrain: stage %s: epoch %.2f: eval_loss %.4f perplexity %.2f (%d masked tokens)\n", st.name, em.Epoch, em.Loss, em.Perplexity, em.Tokens)
	st.evals = append(st.evals, em)
	st.sr.Evals = append(st.sr.Evals, em)
	return false, nil
}

// SaveModel writes the model and the tokenizer into dir (engine.Task).
func (st *stage) SaveModel(dir string) error {
	if err := st.m.Save(dir); err != nil {
		return err
	}
	return st.tok.Save(dir)
}

// State is the stage's part of a checkpoint (engine.Task).
func (st *stage) State() (engine.TaskState, error) {
	return engine.TaskState{Keys: stageKeys{Stage: st.name, Evals: st.evals, Options: st.o.Options}}, nil
}

// fault calls the test fault hook.
func (st *stage) fault(point string) {
	if f := st.o.hooks.Fault; f != nil {
		f(point)
	}
}
