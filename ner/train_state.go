package ner

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
)

// Files of a checkpoint directory besides the model and tokenizer files.
const (
	trainerStateName = "trainer_state.json"
	optimizerName    = "optimizer.safetensors"
)

// trainerState is the loop's position and history, saved as
// trainer_state.json in the checkpoint directory.
type trainerState struct {
	Epoch        int           `json:"epoch"`         // epoch to run next (0-based)
	Batch        int           `json:"batch"`         // batches of that epoch already done
	Step         int           `json:"global_step"`   // optimizer steps done
	LossSum      float64       `json:"loss_sum"`      // sum of the step losses of the epoch in progress
	LossN        int           `json:"loss_n"`        // and their number
	EpochSeconds float64       `json:"epoch_seconds"` // time spent in the epoch in progress before an interruption
	BestF1       float64       `json:"best_dev_f1"`   // -1 before any dev evaluation
	BestEpoch    int           `json:"best_epoch"`    // 1-based, 0 = none yet
	BadEvals     int           `json:"evals_without_improvement"`
	Stopped      bool          `json:"stopped_early"`
	History      []EpochResult `json:"log_history"`
	Labels       []string      `json:"labels"`
	Seed         int64         `json:"seed"`
	Scheme       Scheme        `json:"scheme"`
}

func (s *trainerState) epochLoss() float64 {
	if s.LossN == 0 {
		return 0
	}
	return s.LossSum / float64(s.LossN)
}

func readTrainerState(dir string) (trainerState, error) {
	var st trainerState
	path := filepath.Join(dir, trainerStateName)
	b, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("ner: resume: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("ner: resume: %s: %w", path, err)
	}
	if st.Epoch < 0 || st.Batch < 0 || st.Step < 0 || len(st.Labels) == 0 {
		return st, fmt.Errorf("ner: resume: %s: invalid state (epoch %d, batch %d, step %d, %d labels)", path, st.Epoch, st.Batch, st.Step, len(st.Labels))
	}
	return st, nil
}

// saveCheckpoint writes OutDir/checkpoint atomically: the model and
// tokenizer (a HF model directory), the optimizer state and the trainer
// state with Epoch set to epoch (the epoch to continue with).
func (tr *trainer) saveCheckpoint(epoch int) error {
	st := tr.state
	st.Epoch = epoch
	if epoch != tr.state.Epoch { // an epoch just ended: the next starts fresh
		st.Batch, st.LossSum, st.LossN, st.EpochSeconds = 0, 0, 0, 0
	}
	return replaceDir(filepath.Join(tr.o.OutDir, CheckpointDirName), func(tmp string) error {
		if err := tr.m.Save(tmp); err != nil {
			return err
		}
		if err := tr.tok.Save(tmp); err != nil {
			return err
		}
		if err := saveOptimizer(filepath.Join(tmp, optimizerName), tr.opt); err != nil {
			return err
		}
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, trainerStateName), append(b, '\n'), 0o644)
	})
}

// saveOptimizer writes the AdamW state as safetensors; the number of Step
// calls goes into the metadata.
func saveOptimizer(path string, opt *optim.AdamW) error {
	state, steps, err := opt.StateDict()
	if err != nil {
		return err
	}
	defer func() {
		for _, t := range state {
			t.MustDrop()
		}
	}()
	out := make(map[string]safetensors.Tensor, len(state))
	for k, t := range state {
		if out[k], err = tensors.ToSafetensors(t); err != nil {
			return fmt.Errorf("optimizer %s: %w", k, err)
		}
	}
	return safetensors.WriteFile(path, out, map[string]string{"steps": strconv.FormatInt(steps, 10)})
}

// loadOptimizer restores the state written by saveOptimizer.
func loadOptimizer(dir string, opt *optim.AdamW) error {
	path := filepath.Join(dir, optimizerName)
	sts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("ner: resume: %w", err)
	}
	steps, err := strconv.ParseInt(meta["steps"], 10, 64)
	if err != nil {
		return fmt.Errorf("ner: resume: %s: metadata steps %q: %w", path, meta["steps"], err)
	}
	state := make(map[string]*ts.Tensor, len(sts))
	defer func() {
		for _, t := range state {
			t.MustDrop()
		}
	}()
	for k, st := range sts {
		if len(st.Shape) == 0 {
			// tensors.FromSafetensors cannot build a 0-d tensor (gotch
			// indexes the empty shape); optim reads a step from any
			// one-element tensor.
			st.Shape = []int64{1}
		}
		t, err := tensors.FromSafetensors(st, gotch.CPU)
		if err != nil {
			return fmt.Errorf("ner: resume: %s: %s: %w", path, k, err)
		}
		state[k] = t
	}
	if err := opt.LoadStateDict(state, steps); err != nil {
		return fmt.Errorf("ner: resume: %s: %w", path, err)
	}
	return nil
}

// replaceDir fills a temporary directory beside dir with write and renames
// it over dir, so that dir is always complete.
func replaceDir(dir string, write func(tmp string) error) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("ner: save %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("ner: save %s: %w", dir, err)
	}
	if err := write(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("ner: save %s: %w", dir, err)
	}
	old := dir + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("ner: save %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("ner: save %s: %w", dir, err)
	}
	os.RemoveAll(old)
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

// metricsLog appends JSON lines to OutDir/metrics.jsonl.
type metricsLog struct {
	f *os.File
	w *bufio.Writer
}

func openMetricsLog(path string) (*metricsLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ner: train: %w", err)
	}
	return &metricsLog{f: f, w: bufio.NewWriter(f)}, nil
}

func (l *metricsLog) write(v map[string]any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("ner: train: metrics log: %w", err)
	}
	l.w.Write(b)
	l.w.WriteByte('\n')
	if v["type"] != "step" {
		return l.flush()
	}
	return nil
}

func (l *metricsLog) flush() error {
	if err := l.w.Flush(); err != nil {
		return fmt.Errorf("ner: train: metrics log: %w", err)
	}
	return nil
}

func (l *metricsLog) Close() error {
	err := l.flush()
	if cerr := l.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("ner: train: metrics log: %w", cerr)
	}
	return err
}
