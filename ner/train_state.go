package ner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

// trainerState is the loop's position and history. It is saved in a
// checkpoint's trainer_state.json (internal/trainstate): the position in
// the epoch as the state's data_position (trainPosition), the rest as its
// options (trainRun).
type trainerState struct {
	Epoch        int           // epoch to run next (0-based)
	Batch        int           // batches of that epoch already done
	Step         int           // optimizer steps done
	LossSum      float64       // sum of the step losses of the epoch in progress
	LossN        int           // and their number
	EpochSeconds float64       // time spent in the epoch in progress before an interruption
	BestF1       float64       // -1 before any dev evaluation
	BestEpoch    int           // 1-based, 0 = none yet
	BestStep     int           // optimizer steps done at the end of BestEpoch
	BadEvals     int           // evaluations since the last improvement
	Stopped      bool          // early stopping ended the run
	History      []EpochResult // finished epochs
	Labels       []string
	Seed         int64
	Scheme       Scheme
	Scaler       *optim.ScalerState // fp16 loss scale, set when a checkpoint is written
}

// trainPosition is trainstate.State.DataPosition: where in the epoch order
// (seeded by Seed and Epoch) the run stands.
type trainPosition struct {
	Epoch        int     `json:"epoch"`         // epoch to run next (0-based)
	Batch        int     `json:"batch"`         // batches of that epoch already done
	LossSum      float64 `json:"loss_sum"`      // sum of the step losses of the epoch in progress
	LossN        int     `json:"loss_n"`        // and their number
	EpochSeconds float64 `json:"epoch_seconds"` // time spent in the epoch in progress
	// Scaler is the fp16 loss scaler's state (absent at other precisions).
	Scaler *optim.ScalerState `json:"grad_scaler,omitempty"`
}

// trainRun is trainstate.State.Options: what the run must agree on when
// resumed, and its history.
type trainRun struct {
	Labels    []string      `json:"labels"`
	Scheme    Scheme        `json:"scheme"`
	BestF1    float64       `json:"best_dev_f1"` // -1 before any dev evaluation
	BestEpoch int           `json:"best_epoch"`  // 1-based, 0 = none yet
	BadEvals  int           `json:"evals_without_improvement"`
	Stopped   bool          `json:"stopped_early"`
	History   []EpochResult `json:"log_history"`
}

func (s *trainerState) epochLoss() float64 {
	if s.LossN == 0 {
		return 0
	}
	return s.LossSum / float64(s.LossN)
}

// toCheckpoint converts s to trainstate's form.
func (s trainerState) toCheckpoint() (*trainstate.State, error) {
	pos, err := json.Marshal(trainPosition{Epoch: s.Epoch, Batch: s.Batch, LossSum: s.LossSum, LossN: s.LossN, EpochSeconds: s.EpochSeconds, Scaler: s.Scaler})
	if err != nil {
		return nil, err
	}
	run, err := json.Marshal(trainRun{Labels: s.Labels, Scheme: s.Scheme, BestF1: s.BestF1, BestEpoch: s.BestEpoch,
		BadEvals: s.BadEvals, Stopped: s.Stopped, History: s.History})
	if err != nil {
		return nil, err
	}
	cs := &trainstate.State{Step: int64(s.Step), Epoch: float64(s.Epoch), DataPosition: pos, Options: run, Seed: s.Seed}
	if s.BestEpoch > 0 && s.BestF1 >= 0 {
		f1 := s.BestF1
		cs.BestScore, cs.BestStep = &f1, int64(s.BestStep)
	}
	return cs, nil
}

// fromCheckpoint converts a checkpoint's state back.
func fromCheckpoint(cs *trainstate.State) (trainerState, error) {
	var pos trainPosition
	var run trainRun
	if err := json.Unmarshal(cs.DataPosition, &pos); err != nil {
		return trainerState{}, fmt.Errorf("data_position: %w", err)
	}
	if err := json.Unmarshal(cs.Options, &run); err != nil {
		return trainerState{}, fmt.Errorf("options: %w", err)
	}
	st := trainerState{Epoch: pos.Epoch, Batch: pos.Batch, Step: int(cs.Step), LossSum: pos.LossSum, LossN: pos.LossN,
		EpochSeconds: pos.EpochSeconds, BestF1: run.BestF1, BestEpoch: run.BestEpoch, BestStep: int(cs.BestStep),
		BadEvals: run.BadEvals, Stopped: run.Stopped, History: run.History, Labels: run.Labels, Seed: cs.Seed, Scheme: run.Scheme,
		Scaler: pos.Scaler}
	if st.Epoch < 0 || st.Batch < 0 || st.Step < 0 || len(st.Labels) == 0 {
		return st, fmt.Errorf("invalid state (epoch %d, batch %d, step %d, %d labels)", st.Epoch, st.Batch, st.Step, len(st.Labels))
	}
	return st, nil
}

// latestCheckpoint finds the newest valid checkpoint of outDir
// (trainstate.Latest: a corrupt newest one is skipped for the previous
// good one) and reads its state. found is false when outDir has no
// checkpoint at all.
func latestCheckpoint(outDir string) (dir string, st trainerState, found bool, err error) {
	dir, err = trainstate.Latest(outDir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", st, false, nil
	}
	if err != nil {
		return "", st, false, fmt.Errorf("ner: resume: %w", err)
	}
	cs, err := trainstate.Load(dir)
	if err != nil {
		return "", st, false, fmt.Errorf("ner: resume: %w", err)
	}
	if st, err = fromCheckpoint(cs); err != nil {
		return "", st, false, fmt.Errorf("ner: resume: %s: %w", filepath.Join(dir, trainstate.StateFile), err)
	}
	return dir, st, true, nil
}

// saveCheckpoint writes OutDir/checkpoint-<step>/ (trainstate.Save: the
// model and tokenizer as a HF model directory, optimizer.safetensors and
// trainer_state.json, atomically) with Epoch set to epoch (the epoch to
// continue with), then removes the checkpoints beyond KeepCheckpoints. It
// returns the checkpoint's directory.
func (tr *trainer) saveCheckpoint(epoch int) (string, error) {
	st := tr.state
	st.Epoch = epoch
	if epoch != tr.state.Epoch { // an epoch just ended: the next starts fresh
		st.Batch, st.LossSum, st.LossN, st.EpochSeconds = 0, 0, 0, 0
	}
	if tr.scaler.Enabled() {
		sc := tr.scaler.State()
		st.Scaler = &sc
	}
	cs, err := st.toCheckpoint()
	if err != nil {
		return "", fmt.Errorf("ner: train: checkpoint: %w", err)
	}
	cs.Epoch += float64(st.Batch) / float64(tr.batchesPerEpoch()) // HF's fractional epochs done
	err = trainstate.Save(tr.o.OutDir, cs, func(dir string) error {
		if err := tr.m.Save(dir); err != nil {
			return err
		}
		return tr.tok.Save(dir)
	}, tr.opt)
	if err != nil {
		return "", fmt.Errorf("ner: train: %w", err)
	}
	if _, err := trainstate.Rotate(tr.o.OutDir, tr.o.KeepCheckpoints); err != nil {
		return "", fmt.Errorf("ner: train: %w", err)
	}
	return filepath.Join(tr.o.OutDir, trainstate.DirName(cs.Step)), nil
}

// saveModel writes the model and the tokenizer to dir atomically
// (atomicfile.WriteDir: built beside dir, synced, swapped in).
func (tr *trainer) saveModel(dir string) error {
	err := atomicfile.WriteDir(dir, func(tmp string) error {
		if err := tr.m.Save(tmp); err != nil {
			return err
		}
		return tr.tok.Save(tmp)
	})
	if err != nil {
		return fmt.Errorf("ner: save %s: %w", dir, err)
	}
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
