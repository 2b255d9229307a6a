package pretrain

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/biobertpt-go/biobertpt/internal/trainstate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// resumeOptions: 8 steps of 2 accumulated micro-batches with dropout on,
// a checkpoint every 2 steps.
func resumeOptions(t *testing.T) (TrainOptions, string) {
	dir, cfgPath, vocabPath, corpus := tinySetup(t, 300, 0.1)
	o := tinyOptions(cfgPath, vocabPath, corpus, filepath.Join(dir, "out"))
	o.MaxSteps = 8
	o.GradAccum = 2
	o.WarmupSteps = 2
	o.SaveSteps = 2
	o.CacheDir = filepath.Join(dir, "cache") // shared by the runs of a test
	return o, dir
}

// TestResumeGivesSameLosses: 8 steps straight, or 4 steps, a Ctrl-C
// (context cancelled) and a resumed run of the last 4, give bit-identical
// losses and final weights' validation metrics.
func TestResumeGivesSameLosses(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o, dir := resumeOptions(t)

	straight := o
	straight.OutDir = filepath.Join(dir, "straight")
	full, err := Train(context.Background(), straight)
	require.NoError(t, err)
	want := full.Stages[0].Losses
	require.Len(t, want, 8)

	cut := o
	cut.OutDir = filepath.Join(dir, "cut")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut.OnStep = func(m StepMetrics) {
		if m.Step == 3 {
			cancel()
		}
	}
	first, err := Train(ctx, cut)
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "interrupted at step 3")
	assert.DirExists(t, filepath.Join(cut.OutDir, "checkpoint-3"), "Ctrl-C writes a checkpoint")
	assert.NoDirExists(t, filepath.Join(cut.OutDir, "final"))
	require.Equal(t, want[:3], first.Stages[0].Losses)

	// Without Resume the directory is refused.
	cut.OnStep = nil
	_, err = Train(context.Background(), cut)
	assert.ErrorContains(t, err, "already holds a run")

	cut.Resume = true
	var log bytes.Buffer
	cut.Log = &log
	second, err := Train(context.Background(), cut)
	require.NoError(t, err, log.String())
	s := second.Stages[0]
	assert.Equal(t, 3, s.StartStep)
	assert.Equal(t, filepath.Join(cut.OutDir, "checkpoint-3"), s.Resumed)
	assert.Equal(t, want[3:], s.Losses, "resumed losses equal the uninterrupted run's")
	require.NotEmpty(t, s.Evals)
	fe := full.Stages[0].Evals
	assert.Equal(t, fe[len(fe)-1], s.Evals[len(s.Evals)-1])

	// A finished stage is skipped by a further resume.
	again, err := Train(context.Background(), cut)
	require.NoError(t, err)
	assert.True(t, again.Stages[0].Skipped)
}

// TestCorruptCheckpointFallsBack: the newest checkpoint is damaged (a
// truncated model file); resume says so, uses the previous one and still
// reproduces the uninterrupted losses.
func TestCorruptCheckpointFallsBack(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o, dir := resumeOptions(t)
	o.OutDir = filepath.Join(dir, "run")
	o.SaveTotalLimit = 3
	full, err := Train(context.Background(), o)
	require.NoError(t, err)
	want := full.Stages[0].Losses
	refs, err := trainstate.List(o.OutDir)
	require.NoError(t, err)
	var steps []int64
	for _, r := range refs {
		steps = append(steps, r.Step)
	}
	assert.Equal(t, []int64{8, 6, 4}, steps, "SaveTotalLimit 3 keeps the newest three")
	step, pos, info, err := ReadCheckpoint(filepath.Join(o.OutDir, "checkpoint-4"))
	require.NoError(t, err)
	assert.Equal(t, 4, step)
	assert.Equal(t, Position{Epoch: 0, Batch: 8}, pos, "4 steps of 2 micro-batches")
	assert.Equal(t, 8, info.MaxSteps)
	assert.Equal(t, "custom", info.Stage)
	assert.Equal(t, want[3], info.LastLoss)

	// Pretend the run died after checkpoint-8 was half written over.
	require.NoError(t, os.RemoveAll(filepath.Join(o.OutDir, "final")))
	model := filepath.Join(o.OutDir, "checkpoint-8", "model.safetensors")
	require.NoError(t, os.Truncate(model, 100))
	// and checkpoint-6 lost its trainer state.
	require.NoError(t, os.Remove(filepath.Join(o.OutDir, "checkpoint-6", trainstate.StateFile)))

	o.Resume = true
	var log bytes.Buffer
	o.Log = &log
	res, err := Train(context.Background(), o)
	require.NoError(t, err, log.String())
	assert.Contains(t, log.String(), "checkpoint-8 is unusable")
	assert.Contains(t, log.String(), "checkpoint-6 is unusable")
	assert.Contains(t, log.String(), "resuming from the previous good checkpoint")
	s := res.Stages[0]
	assert.Equal(t, 4, s.StartStep)
	assert.Equal(t, want[4:], s.Losses)

	// Every checkpoint damaged: a clear error.
	require.NoError(t, os.RemoveAll(filepath.Join(o.OutDir, "final")))
	refs, err = trainstate.List(o.OutDir)
	require.NoError(t, err)
	for _, r := range refs {
		require.NoError(t, os.WriteFile(filepath.Join(r.Dir, trainstate.StateFile), []byte("{"), 0o644))
	}
	_, err = Train(context.Background(), o)
	assert.ErrorContains(t, err, "no usable checkpoint")
}
