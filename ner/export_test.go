package ner

import (
	"errors"
	"io/fs"

	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

// Test switches of Train (TrainOptions.hooks).

// deferReads defers the loss reads on the CPU too, as on CUDA.
func (o *TrainOptions) deferReads(on bool) { o.hooks.engine.DeferReads = on }

// forceScaler enables fp16's loss scaler at any precision.
func (o *TrainOptions) forceScaler(on bool) { o.hooks.engine.ForceScaler = on }

// fixedShapes takes CUDAGraph's fixed-shape path without a graph.
func (o *TrainOptions) fixedShapes(on bool) { o.hooks.fixedShapes = on }

// onFault sets the fault-injection callback (engine.Hooks.Fault).
func (o *TrainOptions) onFault(f func(point string)) { o.hooks.engine.Fault = f }

// checkpointView is what tests read of a checkpoint.
type checkpointView struct {
	Step, Epoch, Batch int
	Scaler             *optim.ScalerState
	State              trainerState
}

// latestCheckpoint finds the newest valid checkpoint of outDir
// (trainstate.Latest) and reads it; found is false without any.
func latestCheckpoint(outDir string) (dir string, v checkpointView, found bool, err error) {
	dir, err = trainstate.Latest(outDir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", v, false, nil
	}
	if err != nil {
		return "", v, false, err
	}
	c, err := engine.LoadCheckpoint(dir)
	if err != nil {
		return "", v, false, err
	}
	st, err := taskState(c)
	if err != nil {
		return "", v, false, err
	}
	return dir, checkpointView{Step: c.Step, Epoch: c.Position.Epoch, Batch: c.Position.Batch, Scaler: c.Scaler(), State: st}, true, nil
}
