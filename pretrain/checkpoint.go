package pretrain

import (
	"encoding/json"
	"fmt"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// Checkpoints are internal/engine's (internal/trainstate's layout, HF
// Trainer's), in the stage's directory:
//
//	checkpoint-<step>/config.json, model.safetensors   the model (bert.ForMaskedLM.Save)
//	checkpoint-<step>/vocab.txt, tokenizer_config.json  the tokenizer (tokenize.Tokenizer.Save)
//	checkpoint-<step>/optimizer.safetensors             AdamW moments and steps
//	checkpoint-<step>/trainer_state.json                step, epoch, data position, RNG, options, files' SHA-256
//	latest                                             name of the newest checkpoint
//
// A checkpoint directory is built under a temporary name and renamed when
// complete (kill -9 leaves the previous checkpoints intact), and resuming
// validates checkpoints newest first, checksums included, falling back to
// the previous good one.

// RNGRule documents how the pretraining data's randomness is derived, so
// that a checkpoint's (seed, data position, step) is its complete random
// state: data order and masks come from the Batcher (a function of the
// seed and Position), and before each micro-batch libtorch's generators
// are reseeded from (seed, step, micro) (engine.DropoutSeed), which fixes
// the dropout masks. trainer_state.json records both as its rng_state.
const RNGRule = `batches: PCG(seed, position)`

// CheckpointInfo is what the trainer stores in trainer_state.json's
// "options" besides the tensors: the stage, its schedule and the
// hyper-parameters of the run.
type CheckpointInfo struct {
	Stage         string        `json:"stage"`
	MaxSteps      int           `json:"max_steps"`
	StepsPerEpoch int           `json:"steps_per_epoch"`
	WarmupSteps   int           `json:"warmup_steps"`
	Seed          int64         `json:"seed"`
	LastLoss      float64       `json:"last_loss"`
	Evals         []EvalMetrics `json:"eval_history,omitempty"`
	Options       Options       `json:"hyperparameters"`
	// Scaler is the fp16 loss scaler's state (nil at other precisions).
	Scaler *optim.ScalerState `json:"grad_scaler,omitempty"`
}

// ReadCheckpoint validates a checkpoint directory (every file's size and
// SHA-256) and returns its step, data position and trainer information.
func ReadCheckpoint(dir string) (step int, pos Position, info CheckpointInfo, err error) {
	c, err := engine.LoadCheckpoint(dir)
	if err != nil {
		return 0, pos, info, fmt.Errorf("pretrain: checkpoint: %w", err)
	}
	if err := json.Unmarshal(c.Options, &info); err != nil {
		return 0, pos, info, fmt.Errorf("pretrain: checkpoint %s: options: %v", dir, err)
	}
	info.Scaler = c.Scaler()
	pos = Position{Epoch: c.Position.Epoch, Batch: c.Position.Batch}
	if info.StepsPerEpoch < 1 || info.MaxSteps < 1 || c.Step > info.MaxSteps {
		return 0, pos, info, fmt.Errorf("pretrain: checkpoint %s: inconsistent steps (global_step %d, steps_per_epoch %d, max_steps %d)", dir, c.Step, info.StepsPerEpoch, info.MaxSteps)
	}
	return c.Step, pos, info, nil
}

// saveModelDir writes the model and tokenizer to dir atomically
// (engine.SaveModelDir): dir appears only complete, and files in an
// existing dir that the trainer does not write are kept.
func saveModelDir(dir string, m *bert.ForMaskedLM, tok *tokenize.Tokenizer) (err error) {
	defer torchutil.Recover(&err)
	err = engine.SaveModelDir(dir, func(tmp string) error {
		if err := m.Save(tmp); err != nil {
			return err
		}
		return tok.Save(tmp)
	})
	if err != nil {
		return fmt.Errorf("pretrain: save %s: %w", dir, err)
	}
	return nil
}
