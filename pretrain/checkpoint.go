package pretrain

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
	"github.com/biobertpt-go/biobertpt/tokenize"
	"github.com/sugarme/gotch"
)

// Checkpoints are internal/trainstate's, HF Trainer's layout, in the
// stage's directory:
//
//	checkpoint-<step>/config.json, model.safetensors   the model (bert.ForMaskedLM.Save)
//	checkpoint-<step>/vocab.txt, tokenizer_config.json  the tokenizer (tokenize.Tokenizer.Save)
//	checkpoint-<step>/optimizer.safetensors             AdamW moments and steps
//	checkpoint-<step>/trainer_state.json                step, epoch, data position, RNG, options
//	latest                                             name of the newest checkpoint
//
// A checkpoint directory is built under a temporary name and renamed when
// complete (kill -9 leaves the previous checkpoints intact), and resuming
// validates checkpoints newest first, falling back to the previous good one.

// RNGRule documents how the trainer's randomness is derived, so that a
// checkpoint's (seed, data position, step) is its complete random state:
// data order and masks come from the Batcher (a function of the seed and
// Position), and before each micro-batch libtorch's generators are
// reseeded with SplitMix64(seed, "drop", step, micro), which fixes the
// dropout masks. trainer_state.json records it as its rng_state.
const RNGRule = `batches: PCG(seed, position); dropout: torch.manual_seed(splitmix64(seed, "drop", step, micro)) before each micro-batch`

// CheckpointInfo is what the trainer stores in trainer_state.json's
// "options" besides the tensors: the stage, its schedule and the
// hyper-parameters of the run.
type CheckpointInfo struct {
	Stage         string        `json:"stage"`
	MaxSteps      int           `json:"max_steps"`
	StepsPerEpoch int           `json:"steps_per_epoch"`
	WarmupSteps   int           `json:"warmup_steps"`
	Seed          uint64        `json:"seed"`
	LastLoss      float64       `json:"last_loss"`
	Evals         []EvalMetrics `json:"eval_history,omitempty"`
	Options       Options       `json:"hyperparameters"`
	// Scaler is the fp16 loss scaler's state (nil at other precisions).
	Scaler *optim.ScalerState `json:"grad_scaler,omitempty"`
}

// ReadCheckpoint validates a checkpoint directory (trainstate.Validate) and
// returns its step, data position and trainer information.
func ReadCheckpoint(dir string) (step int, pos Position, info CheckpointInfo, err error) {
	st, err := trainstate.Validate(dir)
	if err != nil {
		return 0, pos, info, fmt.Errorf("pretrain: checkpoint: %w", err)
	}
	if err := json.Unmarshal(st.DataPosition, &pos); err != nil {
		return 0, pos, info, fmt.Errorf("pretrain: checkpoint %s: data_position: %v", dir, err)
	}
	if err := json.Unmarshal(st.Options, &info); err != nil {
		return 0, pos, info, fmt.Errorf("pretrain: checkpoint %s: options: %v", dir, err)
	}
	switch {
	case pos.Epoch < 0 || pos.Batch < 0:
		return 0, pos, info, fmt.Errorf("pretrain: checkpoint %s: bad data position %v", dir, pos)
	case info.StepsPerEpoch < 1 || info.MaxSteps < 1 || st.Step < 0 || st.Step > int64(info.MaxSteps):
		return 0, pos, info, fmt.Errorf("pretrain: checkpoint %s: inconsistent steps (global_step %d, steps_per_epoch %d, max_steps %d)", dir, st.Step, info.StepsPerEpoch, info.MaxSteps)
	}
	return int(st.Step), pos, info, nil
}

// saveCheckpoint writes dir/checkpoint-<step> through trainstate, then
// keeps the newest keep checkpoints (0 keeps all). It returns the path.
func saveCheckpoint(dir string, step int, pos Position, info CheckpointInfo, m *bert.ForMaskedLM, tok *tokenize.Tokenizer, opt *optim.AdamW, keep int) (path string, err error) {
	defer torchutil.Recover(&err)
	p, err := json.Marshal(pos)
	if err != nil {
		return "", fmt.Errorf("pretrain: checkpoint: %w", err)
	}
	o, err := json.Marshal(info)
	if err != nil {
		return "", fmt.Errorf("pretrain: checkpoint: %w", err)
	}
	st := &trainstate.State{
		Step: int64(step), Epoch: float64(step) / float64(info.StepsPerEpoch),
		DataPosition: p, RNG: []byte(RNGRule), Options: o, Seed: int64(info.Seed & (1<<63 - 1)),
	}
	save := func(tmp string) error {
		if err := m.Save(tmp); err != nil {
			return err
		}
		return tok.Save(tmp)
	}
	if err := trainstate.Save(dir, st, save, opt); err != nil {
		return "", fmt.Errorf("pretrain: %w", err)
	}
	if _, err := trainstate.Rotate(dir, keep); err != nil {
		return "", fmt.Errorf("pretrain: %w", err)
	}
	return filepath.Join(dir, trainstate.DirName(int64(step))), nil
}

// hasCheckpoints reports whether dir holds checkpoint directories.
func hasCheckpoints(dir string) (string, bool) {
	cs, err := trainstate.List(dir)
	if err != nil || len(cs) == 0 {
		return "", false
	}
	return cs[0].Dir, true
}

// resumePoint is a checkpoint that loaded: its state, model and tokenizer.
type resumePoint struct {
	dir   string
	step  int
	pos   Position
	info  CheckpointInfo
	model *bert.ForMaskedLM
	tok   *tokenize.Tokenizer
}

// loadLatestCheckpoint loads the newest checkpoint of dir that validates
// and loads. A checkpoint that does not (truncated or corrupt files, a
// missing trainer_state.json) is reported on log with the reason and the
// previous one is tried. It returns nil without checkpoints, and an error
// naming every problem when none loads.
func loadLatestCheckpoint(dir string, dev gotch.Device, log io.Writer) (*resumePoint, error) {
	// Latest repairs a checkpoint replacement a crash interrupted.
	if _, err := trainstate.Latest(dir); err != nil && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	cs, err := trainstate.List(dir)
	if err != nil {
		return nil, fmt.Errorf("pretrain: %w", err)
	}
	var problems []string
	for _, c := range cs {
		rp, err := loadCheckpoint(c.Dir, dev)
		if err == nil {
			if len(problems) > 0 {
				logf(log, "pretrain: resuming from the previous good checkpoint %s\n", rp.dir)
			}
			return rp, nil
		}
		problems = append(problems, err.Error())
		logf(log, "pretrain: checkpoint %s is unusable: %v\n", c.Dir, err)
	}
	if len(problems) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("pretrain: no usable checkpoint in %s: %s", dir, strings.Join(problems, "; "))
}

// loadCheckpoint validates one checkpoint and loads its model and
// tokenizer (the optimizer is loaded later, once built over the model).
func loadCheckpoint(dir string, dev gotch.Device) (rp *resumePoint, err error) {
	defer torchutil.Recover(&err)
	step, pos, info, err := ReadCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("pretrain: checkpoint %s: %w", dir, err)
	}
	m, _, err := bert.LoadForMaskedLM(dir, bert.LoadOptions{Device: dev})
	if err != nil {
		return nil, fmt.Errorf("pretrain: checkpoint %s: %w", dir, err)
	}
	return &resumePoint{dir: dir, step: step, pos: pos, info: info, model: m, tok: tok}, nil
}

// saveModelDir writes the model and tokenizer to dir atomically
// (atomicfile.WriteDir): dir appears only complete.
func saveModelDir(dir string, m *bert.ForMaskedLM, tok *tokenize.Tokenizer) (err error) {
	defer torchutil.Recover(&err)
	err = atomicfile.WriteDir(dir, func(tmp string) error {
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
