package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

// Checkpoints are internal/trainstate's (HF Trainer's layout) in the run's
// directory:
//
//	checkpoint-<step>/config.json, model.safetensors, vocab.txt, …  Task.SaveModel's files
//	checkpoint-<step>/optimizer.safetensors                          AdamW moments and steps
//	checkpoint-<step>/trainer_state.json                             step, position, RNG rule, options, files and their SHA-256
//	latest                                                           name of the newest checkpoint
//
// trainer_state.json's data_position holds the engine's Position and the
// running sums of the epoch in progress ({"epoch", "batch", "loss_sum",
// "loss_n", "epoch_seconds", "grad_scaler"}), its options object the
// engine's schedule ({"max_steps", "steps_per_epoch", "warmup_steps",
// "seed", "last_loss", "stopped_early"}) next to the task's keys
// (TaskState.Keys). Checkpoints written by the trainers before the engine
// existed read the same way: the NER trainer's kept these data_position
// keys, the pretraining trainer's these options keys (with grad_scaler in
// the options); a missing key is taken as unknown.

// runInfo is the engine's part of a checkpoint's options object.
type runInfo struct {
	MaxSteps      int      `json:"max_steps,omitempty"`
	StepsPerEpoch int      `json:"steps_per_epoch,omitempty"`
	WarmupSteps   int      `json:"warmup_steps"`
	Seed          int64    `json:"seed"`
	LastLoss      *float64 `json:"last_loss,omitempty"`
	Stopped       bool     `json:"stopped_early"`
	// WorldSize is the number of processes of a data-parallel run (absent:
	// one).
	WorldSize int `json:"world_size,omitempty"`
	// Scaler: where the pretraining trainer kept the fp16 scaler (read
	// only).
	Scaler *optim.ScalerState `json:"grad_scaler,omitempty"`
}

// dataPosition is a checkpoint's data_position.
type dataPosition struct {
	Epoch        int                `json:"epoch"`
	Batch        int                `json:"batch"`
	LossSum      float64            `json:"loss_sum"`
	LossN        int                `json:"loss_n"`
	EpochSeconds float64            `json:"epoch_seconds"`
	Scaler       *optim.ScalerState `json:"grad_scaler,omitempty"`
}

// Checkpoint is a validated checkpoint directory.
type Checkpoint struct {
	Dir      string
	Step     int
	Position Position
	// State is its trainer_state.json.
	State *trainstate.State
	// Options is trainer_state.json's options object (the engine's keys
	// and the task's).
	Options json.RawMessage

	info   runInfo
	data   dataPosition
	scaler *optim.ScalerState
}

// Scaler is the fp16 loss scaler's state (nil without fp16).
func (c *Checkpoint) Scaler() *optim.ScalerState { return c.scaler }

// Info returns the schedule recorded in the checkpoint (0 where an older
// checkpoint did not record it) and the last finite step loss (NaN: none).
func (c *Checkpoint) Info() (maxSteps, stepsPerEpoch, warmupSteps int, lastLoss float64) {
	lastLoss = math.NaN()
	if c.info.LastLoss != nil {
		lastLoss = *c.info.LastLoss
	}
	return c.info.MaxSteps, c.info.StepsPerEpoch, c.info.WarmupSteps, lastLoss
}

// Stopped reports whether the task ended training early at this
// checkpoint.
func (c *Checkpoint) Stopped() bool { return c.info.Stopped }

// LoadCheckpoint validates dir (trainstate.Load: every file's size and
// SHA-256) and reads the engine's part of its state.
func LoadCheckpoint(dir string) (*Checkpoint, error) {
	st, err := trainstate.Load(dir)
	if err != nil {
		return nil, err
	}
	return parseCheckpoint(dir, st)
}

func parseCheckpoint(dir string, st *trainstate.State) (*Checkpoint, error) {
	c := &Checkpoint{Dir: dir, Step: int(st.Step), State: st, Options: st.Options}
	state := filepath.Join(dir, trainstate.StateFile)
	if len(st.DataPosition) == 0 {
		return nil, fmt.Errorf("%s: no data_position", state)
	}
	if err := json.Unmarshal(st.DataPosition, &c.data); err != nil {
		return nil, fmt.Errorf("%s: data_position: %w", state, err)
	}
	if len(st.Options) > 0 {
		if err := json.Unmarshal(st.Options, &c.info); err != nil {
			return nil, fmt.Errorf("%s: options: %w", state, err)
		}
	}
	c.Position = Position{Epoch: c.data.Epoch, Batch: c.data.Batch}
	c.scaler = c.data.Scaler
	if c.scaler == nil {
		c.scaler = c.info.Scaler
	}
	switch {
	case c.Step < 0 || c.data.Epoch < 0 || c.data.Batch < 0 || c.data.LossN < 0:
		return nil, fmt.Errorf("%s: invalid position (step %d, epoch %d, batch %d)", state, c.Step, c.data.Epoch, c.data.Batch)
	case c.info.MaxSteps > 0 && c.Step > c.info.MaxSteps:
		return nil, fmt.Errorf("%s: global_step %d beyond max_steps %d", state, c.Step, c.info.MaxSteps)
	}
	return c, nil
}

// latestCheckpoint returns the newest checkpoint of dir that validates and
// parses, after repairing what an interrupted save left (trainstate.Latest
// does the same, without the messages). A checkpoint that does not is
// reported through say with the reason and the previous one is tried. It
// returns nil without any checkpoint and an error naming every problem
// when none is usable.
func latestCheckpoint(dir, name string, say func(string, ...any)) (*Checkpoint, error) {
	if err := trainstate.Recover(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: resume: %w", name, err)
	}
	cs, err := trainstate.List(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: resume: %w", name, err)
	}
	var problems []string
	for _, c := range cs {
		ck, err := LoadCheckpoint(c.Dir)
		if err == nil {
			if len(problems) > 0 {
				say("%s: resuming from the previous good checkpoint %s\n", name, ck.Dir)
			}
			return ck, nil
		}
		problems = append(problems, err.Error())
		say("%s: checkpoint %s is unusable: %v\n", name, c.Dir, err)
	}
	if len(problems) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("%s: resume: no usable checkpoint in %s: %s", name, dir, strings.Join(problems, "; "))
}

// checkpoint writes the run's state to dir/checkpoint-<step>/ (trainstate:
// built under a temporary name, synced, renamed into place; the files'
// SHA-256 in trainer_state.json), then removes the checkpoints beyond
// SaveTotalLimit. It returns the checkpoint's directory.
func (r *Run) checkpoint() (string, error) {
	if !r.IsMain() {
		return filepath.Join(r.dir, trainstate.DirName(int64(r.step))), nil
	}
	r.fault("checkpoint-start")
	ts, err := r.task.State()
	if err != nil {
		return "", fmt.Errorf("%s: checkpoint: %w", r.cfg.Name, err)
	}
	info := runInfo{MaxSteps: r.total, StepsPerEpoch: r.spe, WarmupSteps: r.sched.Warmup, Seed: r.cfg.Seed, Stopped: r.stopped}
	if w := r.WorldSize(); w > 1 {
		info.WorldSize = w
	}
	if !math.IsNaN(r.lastLoss) {
		l := r.lastLoss
		info.LastLoss = &l
	}
	opts, err := mergeObjects(info, ts.Keys)
	if err != nil {
		return "", fmt.Errorf("%s: checkpoint: %w", r.cfg.Name, err)
	}
	dp := dataPosition{Epoch: r.pos.Epoch, Batch: r.pos.Batch, LossSum: r.epochLossSum, LossN: r.epochLossN,
		EpochSeconds: r.epochSeconds + time.Since(r.epochStart).Seconds()}
	if r.scaler.Enabled() {
		sc := r.scaler.State()
		dp.Scaler = &sc
	}
	pos, err := json.Marshal(dp)
	if err != nil {
		return "", fmt.Errorf("%s: checkpoint: %w", r.cfg.Name, err)
	}
	rule := DropoutRule
	if r.cfg.RNGRule != "" {
		rule += "; " + r.cfg.RNGRule
	}
	st := &trainstate.State{Step: int64(r.step), Epoch: float64(r.step) / float64(r.spe), DataPosition: pos,
		RNG: []byte(rule), Options: opts, Seed: r.cfg.Seed}
	if ts.BestScore != nil {
		b := *ts.BestScore
		st.BestScore, st.BestStep = &b, int64(ts.BestStep)
	}
	save := func(tmp string) error {
		if err := r.task.SaveModel(tmp); err != nil {
			return err
		}
		r.fault("checkpoint-files")
		return nil
	}
	if err := trainstate.Save(r.dir, st, save, r.opt); err != nil {
		return "", fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	r.fault("checkpoint")
	if _, err := trainstate.Rotate(r.dir, r.cfg.SaveTotalLimit); err != nil {
		return "", fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	dir := filepath.Join(r.dir, trainstate.DirName(st.Step))
	r.say("%s: checkpoint %s\n", r.cfg.Name, dir)
	return dir, nil
}

// mergeObjects marshals a and b (nil: nothing) to JSON objects and returns
// one object with the keys of both; a key in both is an error.
func mergeObjects(a, b any) (json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for i, v := range []any{a, b} {
		if v == nil {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("options: not a JSON object: %w", err)
		}
		for k, x := range m {
			if _, dup := out[k]; dup && i > 0 {
				return nil, fmt.Errorf("options: the task's key %q is the engine's", k)
			}
			out[k] = x
		}
	}
	return json.Marshal(out)
}
