package engine

import (
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
)

// Model is what the engine trains: its parameters (AdamW's, in a stable
// order) and its compute precision. bert.ForTokenClassification and
// bert.ForMaskedLM are Models; a trainer that adds parameters of its own
// (a CRF's transitions) wraps its model and lists them too.
type Model interface {
	Parameters() []bert.Param
	SetPrecision(p bert.Precision) error
}

// Task is a trainer's part of a run: its batches, its forward pass and
// loss, its evaluation and its model files. The engine owns everything
// else (see Run.Train). Every method runs on the training goroutine.
type Task interface {
	// NumBatches is the number of micro-batches in one epoch, the same for
	// every epoch (>= 1); in a data-parallel run, of this rank's shard
	// (Run.ShardOrder, Run.ShardLen). An epoch is visited in the task's order for that
	// epoch, which must be a function of (Options.Seed, epoch) alone so
	// that a resumed run sees the same batches.
	NumBatches() int
	// ForwardBackward computes the loss of micro-batch mb (a 0-dim float
	// tensor: the mean over its labelled tokens, attached to the autograd
	// graph) and calls back on it, which back-propagates it scaled for the
	// accumulation group and the fp16 loss scale and returns the loss
	// detached. ForwardBackward returns back's result (the caller owns it)
	// and the micro-batch's real tokens; a nil loss means the micro-batch
	// had nothing to learn and back was not called. It must not read
	// anything from the device. The loss is the task's: cross-entropy, a
	// CRF's negative log-likelihood, anything differentiable.
	ForwardBackward(mb MicroBatch, back Backward) (loss *ts.Tensor, tokens int, err error)
	// EndEpoch runs at the end of every epoch and at the end of training
	// (e.Partial when MaxSteps ends it inside an epoch), after the step
	// losses are read and before the checkpoint of that step is written:
	// evaluation, the best model, reports. stop ends training after that
	// checkpoint (early stopping).
	//
	// Evaluation is the task's. In a data-parallel run every rank calls
	// EndEpoch at the same step: the task evaluates its share
	// (Run.EvalRange) and combines the ranks' counts (Run.SumInt64,
	// SumFloat64, AllGatherInt64) before it decides, and writes files only
	// on rank 0 (Run.IsMain).
	EndEpoch(e EpochEnd) (stop bool, err error)
	// SaveModel writes the model, as a directory that loads again (a HF
	// model directory with its tokenizer), into dir, which exists and is
	// empty. It is called for every checkpoint.
	SaveModel(dir string) error
	// State is the task's part of a checkpoint, taken when one is written.
	State() (TaskState, error)
}

// Backward back-propagates a micro-batch's loss: loss/GroupSize (HF's
// division by the accumulation steps), multiplied by the fp16 loss scale,
// then backward. It returns the unscaled loss detached from the graph, a
// tensor the caller owns.
type Backward func(loss *ts.Tensor) (detached *ts.Tensor, err error)

// MicroBatch identifies one micro-batch of a run.
type MicroBatch struct {
	// Epoch (from 0) and Index (from 0, below Task.NumBatches) place the
	// micro-batch in the task's order of that epoch.
	Epoch, Index int
	// Step is the optimizer step (from 0) the micro-batch contributes to,
	// Micro its index in that step's accumulation group and GroupSize the
	// group's size (GradAccum, or fewer at the end of an epoch).
	Step, Micro, GroupSize int
}

// EpochEnd is what Task.EndEpoch is told.
type EpochEnd struct {
	Epoch int // the epoch that ended, from 0
	Step  int // optimizer steps done
	// TrainLoss is the mean of the epoch's step losses (NaN: none).
	TrainLoss float64
	// Seconds is the epoch's wall time, interruptions excluded.
	Seconds float64
	// Partial: training ended inside the epoch (MaxSteps).
	Partial bool
	// Last: no step follows (the end of training).
	Last bool
}

// TaskState is the task's part of a checkpoint.
type TaskState struct {
	// Keys marshals to a JSON object whose keys are added to the
	// checkpoint's trainer_state.json "options" next to the engine's
	// (max_steps, steps_per_epoch, warmup_steps, seed, last_loss,
	// stopped_early); Checkpoint.Options holds them on resume. nil: none.
	Keys any
	// BestScore is the best evaluation score so far (nil: none yet),
	// reached at optimizer step BestStep. Checkpoint rotation never
	// deletes the best step's checkpoint.
	BestScore *float64
	BestStep  int
}

// GradientSync makes the gradients of every process equal before they are
// clipped and applied: a data-parallel all-reduce (averaging) across the
// ranks of a process group. The engine calls it once per optimizer step,
// after the backward pass of the step's last micro-batch and before
// unscaling, clipping and AdamW, so gradient accumulation reduces once per
// step, not per micro-batch. A one-process run has none (nil).
type GradientSync interface {
	SyncGradients(params []bert.Param) error
}
