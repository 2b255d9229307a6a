package ner

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/biobertpt-go/biobertpt/internal/engine"
)

// trainerState is what the NER trainer adds to the engine's state: the
// labels, the model selection and the history. It is saved in every
// checkpoint's trainer_state.json, as the keys of its options object next
// to the engine's (engine.TaskState), and the best step as the state's
// best_global_step.
type trainerState struct {
	Labels    []string
	Scheme    Scheme
	BestF1    float64       // -1 before any dev evaluation
	BestEpoch int           // 1-based, 0 = none yet
	BestStep  int           // optimizer steps done at the end of BestEpoch
	BadEvals  int           // evaluations since the last improvement
	History   []EpochResult // finished epochs
}

// trainRun is trainerState's JSON, the task keys of a checkpoint's options.
type trainRun struct {
	Labels    []string      `json:"labels"`
	Scheme    Scheme        `json:"scheme"`
	BestF1    float64       `json:"best_dev_f1"` // -1 before any dev evaluation
	BestEpoch int           `json:"best_epoch"`  // 1-based, 0 = none yet
	BadEvals  int           `json:"evals_without_improvement"`
	History   []EpochResult `json:"log_history"`
}

func (s trainerState) keys() trainRun {
	return trainRun{Labels: s.Labels, Scheme: s.Scheme, BestF1: s.BestF1, BestEpoch: s.BestEpoch, BadEvals: s.BadEvals, History: s.History}
}

// taskState reads the trainer's state from a checkpoint.
func taskState(c *engine.Checkpoint) (trainerState, error) {
	var run trainRun
	if err := json.Unmarshal(c.Options, &run); err != nil {
		return trainerState{}, fmt.Errorf("%s: options: %w", c.Dir, err)
	}
	st := trainerState{Labels: run.Labels, Scheme: run.Scheme, BestF1: run.BestF1, BestEpoch: run.BestEpoch,
		BestStep: int(c.State.BestStep), BadEvals: run.BadEvals, History: run.History}
	if len(st.Labels) == 0 {
		return st, fmt.Errorf("%s: no labels in the checkpoint's state", c.Dir)
	}
	return st, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
