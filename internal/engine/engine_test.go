package engine

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

// linTask is a Task and Model for tests: linear regression y = x·w with
// dropout on x (so that the losses depend on libtorch's generator), on n
// fixed examples of d features, shuffled per epoch.
type linTask struct {
	w         *ts.Tensor
	x, y      []float32
	n, d, bs  int
	seed      int64
	ends      []EpochEnd
	stopAfter int // EndEpoch asks to stop after this many epochs (0: never)
}

func newLinTask(t *testing.T, n, d, bs int, seed int64, from string) *linTask {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 11))
	l := &linTask{n: n, d: d, bs: bs, seed: seed, x: make([]float32, n*d), y: make([]float32, n)}
	for i := range l.x {
		l.x[i] = float32(r.NormFloat64())
	}
	for i := range l.y {
		l.y[i] = float32(r.NormFloat64())
	}
	w := make([]float32, d)
	if from != "" {
		sts, _, err := safetensors.ReadFile(filepath.Join(from, "w.safetensors"))
		require.NoError(t, err)
		w, err = sts["w"].Float32s()
		require.NoError(t, err)
	}
	t0, err := tensors.FromFloat32s(w, []int64{int64(d), 1}, gotch.CPU)
	require.NoError(t, err)
	l.w = t0.MustSetRequiresGrad(true, true)
	return l
}

func (l *linTask) Parameters() []bert.Param          { return []bert.Param{{Name: "w", Tensor: l.w}} }
func (l *linTask) SetPrecision(bert.Precision) error { return nil }
func (l *linTask) NumBatches() int                   { return (l.n + l.bs - 1) / l.bs }

func (l *linTask) ForwardBackward(mb MicroBatch, back Backward) (*ts.Tensor, int, error) {
	order := rand.New(rand.NewPCG(uint64(l.seed), uint64(mb.Epoch))).Perm(l.n)
	idx := order[mb.Index*l.bs : min((mb.Index+1)*l.bs, l.n)]
	var xs, ys []float32
	for _, i := range idx {
		xs = append(xs, l.x[i*l.d:(i+1)*l.d]...)
		ys = append(ys, l.y[i])
	}
	x, err := tensors.FromFloat32s(xs, []int64{int64(len(idx)), int64(l.d)}, gotch.CPU)
	if err != nil {
		return nil, 0, err
	}
	y, err := tensors.FromFloat32s(ys, []int64{int64(len(idx)), 1}, gotch.CPU)
	if err != nil {
		return nil, 0, err
	}
	defer tensors.DropAll(x, y)
	xd := ts.MustDropout(x, 0.3, true)
	pred := xd.MustMatmul(l.w, true)
	loss := pred.MustMseLoss(y, 1, true) // mean
	defer loss.MustDrop()
	out, err := back(loss)
	return out, len(idx), err
}

func (l *linTask) EndEpoch(e EpochEnd) (bool, error) {
	l.ends = append(l.ends, e)
	return l.stopAfter > 0 && len(l.ends) >= l.stopAfter, nil
}

func (l *linTask) SaveModel(dir string) error {
	st, err := tensors.ToSafetensors(l.w)
	if err != nil {
		return err
	}
	return safetensors.WriteFile(filepath.Join(dir, "w.safetensors"), map[string]safetensors.Tensor{"w": st}, nil)
}

func (l *linTask) State() (TaskState, error) {
	return TaskState{Keys: map[string]int{"epochs_seen": len(l.ends)}}, nil
}

func (l *linTask) weights(t *testing.T) []float32 {
	v, err := tensors.Float32s(l.w)
	require.NoError(t, err)
	return v
}

// testOptions: 3 epochs of 5 batches of 4 (the last of 3), two
// micro-batches a step: 3 steps an epoch, 9 in all.
func testOptions(dir string) Options {
	return Options{OutDir: dir, Epochs: 3, BatchSize: 4, GradAccum: 2, LR: 0.05, WarmupRatio: 0.2,
		WeightDecay: 0.01, AdamBeta1: 0.9, AdamBeta2: 0.999, AdamEpsilon: 1e-8, MaxGradNorm: 1, Seed: 5,
		Device: "cpu", LogSteps: 1, SaveTotalLimit: 2, EvalEachEpoch: true}
}

// runLin runs the linear task with o (from the checkpoint when resuming).
func runLin(t *testing.T, ctx context.Context, o Options, hooks Hooks) (*linTask, *Result, error) {
	t.Helper()
	r, err := Open(Config{Options: o, Name: "test", Hooks: hooks})
	require.NoError(t, err)
	defer r.Close()
	from := ""
	if c := r.Checkpoint(); c != nil {
		from = c.Dir
	}
	l := newLinTask(t, 19, 3, 4, o.Seed, from)
	require.NoError(t, r.Start(l, l))
	res, err := r.Train(ctx)
	return l, res, err
}

func TestTrainAndResumeExactly(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	full, want, err := runLin(t, context.Background(), testOptions(filepath.Join(t.TempDir(), "full")), Hooks{})
	require.NoError(t, err)
	require.Len(t, want.Losses, 9)
	assert.Equal(t, 9, want.Steps)
	require.Len(t, full.ends, 3)
	assert.Equal(t, EpochEnd{Epoch: 2, Step: 9, TrainLoss: full.ends[2].TrainLoss, Seconds: full.ends[2].Seconds, Last: true}, full.ends[2])

	for _, cut := range []int{1, 4, 8} {
		o := testOptions(filepath.Join(t.TempDir(), "cut"))
		ctx, cancel := context.WithCancel(context.Background())
		o.OnStep = func(m StepMetrics) {
			if m.Step == cut {
				cancel()
			}
		}
		_, first, err := runLin(t, ctx, o, Hooks{})
		require.ErrorIs(t, err, context.Canceled)
		assert.ErrorContains(t, err, "interrupted at step")
		assert.ErrorIs(t, err, bert.ErrCancelled)
		assert.Equal(t, want.Losses[:cut], first.Losses)
		cancel()

		o.OnStep, o.Resume = nil, true
		l, second, err := runLin(t, context.Background(), o, Hooks{})
		require.NoError(t, err)
		assert.Equal(t, cut, second.StartStep)
		assert.Equal(t, want.Losses[cut:], second.Losses, "cut at %d", cut)
		assert.Equal(t, full.weights(t), l.weights(t), "cut at %d", cut)

		// metrics.jsonl: every step once, and the resume marked.
		b, err := os.ReadFile(filepath.Join(o.OutDir, MetricsFile))
		require.NoError(t, err)
		var steps []int
		resumes := 0
		for _, line := range splitLines(b) {
			var m struct {
				Step int    `json:"step"`
				Kind string `json:"kind"`
			}
			require.NoError(t, json.Unmarshal(line, &m))
			switch m.Kind {
			case "train":
				steps = append(steps, m.Step)
			case "resume":
				resumes++
				assert.Equal(t, cut, m.Step)
			}
		}
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, steps)
		assert.Equal(t, 1, resumes)
	}
}

func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] != '\n' {
			i++
		}
		out = append(out, b[:i])
		if i < len(b) {
			i++
		}
		b = b[i:]
	}
	return out
}

func TestEarlyStopIsResumed(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := testOptions(t.TempDir())
	r, err := Open(Config{Options: o, Name: "test"})
	require.NoError(t, err)
	l := newLinTask(t, 19, 3, 4, o.Seed, "")
	l.stopAfter = 1
	require.NoError(t, r.Start(l, l))
	res, err := r.Train(context.Background())
	r.Close()
	require.NoError(t, err)
	assert.True(t, res.Stopped)
	assert.Equal(t, 3, res.Steps)

	o.Resume = true
	_, res, err = runLin(t, context.Background(), o, Hooks{})
	require.NoError(t, err)
	assert.True(t, res.Stopped, "a stopped run stays stopped")
	assert.Equal(t, 3, res.Steps)
	assert.Empty(t, res.Losses)
}

func TestRotationKeepsForeignFiles(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := testOptions(t.TempDir())
	o.SaveSteps, o.SaveTotalLimit = 1, 1
	// A file of the user's in a checkpoint directory the run will rotate away.
	var seen bool
	hooks := Hooks{Fault: func(point string) {
		if point == "checkpoint" && !seen {
			seen = true
			require.NoError(t, os.WriteFile(filepath.Join(o.OutDir, "checkpoint-1", "notes.txt"), []byte("mine"), 0o644))
		}
	}}
	_, _, err := runLin(t, context.Background(), o, hooks)
	require.NoError(t, err)
	cs, err := trainstate.List(o.OutDir)
	require.NoError(t, err)
	var names []string
	for _, c := range cs {
		names = append(names, filepath.Base(c.Dir))
	}
	assert.Equal(t, []string{"checkpoint-9", "checkpoint-1"}, names, "checkpoint-1 stays for the user's file")
	b, err := os.ReadFile(filepath.Join(o.OutDir, "checkpoint-1", "notes.txt"))
	require.NoError(t, err)
	assert.Equal(t, "mine", string(b))
	_, err = os.Stat(filepath.Join(o.OutDir, "checkpoint-1", trainstate.StateFile))
	assert.True(t, os.IsNotExist(err), "the checkpoint's own files are gone")
}

func TestMismatchedCheckpointRefused(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o := testOptions(t.TempDir())
	_, _, err := runLin(t, context.Background(), o, Hooks{})
	require.NoError(t, err)
	o.Resume, o.Seed = true, 6
	r, err := Open(Config{Options: o, Name: "test"})
	require.NoError(t, err)
	defer r.Close()
	l := newLinTask(t, 19, 3, 4, o.Seed, r.Checkpoint().Dir)
	assert.ErrorContains(t, r.Start(l, l), "was written by another run")
}

func TestOptionsValidate(t *testing.T) {
	ok := testOptions("out")
	require.NoError(t, ok.Validate())
	for _, tc := range []struct {
		field string
		edit  func(*Options)
	}{
		{"Epochs", func(o *Options) { o.Epochs = 0 }},
		{"MaxSteps", func(o *Options) { o.MaxSteps = -1 }},
		{"BatchSize", func(o *Options) { o.BatchSize = 0 }},
		{"GradAccum", func(o *Options) { o.GradAccum = 0 }},
		{"LR", func(o *Options) { o.LR = 0 }},
		{"WarmupRatio", func(o *Options) { o.WarmupRatio = 1 }},
		{"WarmupSteps", func(o *Options) { o.WarmupSteps = -1 }},
		{"WeightDecay", func(o *Options) { o.WeightDecay = -1 }},
		{"AdamBeta1", func(o *Options) { o.AdamBeta1 = 1 }},
		{"AdamBeta2", func(o *Options) { o.AdamBeta2 = -0.1 }},
		{"AdamEpsilon", func(o *Options) { o.AdamEpsilon = 0 }},
		{"MaxGradNorm", func(o *Options) { o.MaxGradNorm = -1 }},
		{"Device", func(o *Options) { o.Device = "gpu" }},
		{"MaxMemoryGiB", func(o *Options) { o.MaxMemoryGiB = -1 }},
		{"LogSteps", func(o *Options) { o.LogSteps = -1 }},
		{"SaveSteps", func(o *Options) { o.SaveSteps = -1 }},
		{"SaveTotalLimit", func(o *Options) { o.SaveTotalLimit = -1 }},
		{"OverwriteOutputDir", func(o *Options) { o.OverwriteOutputDir, o.Resume = true, true }},
		{"Precision", func(o *Options) { o.Precision = "fp8" }},
	} {
		o := ok
		tc.edit(&o)
		assert.ErrorContains(t, o.Validate(), tc.field)
	}
	o := ok
	o.Epochs, o.MaxSteps = 0, 5
	assert.NoError(t, o.Validate(), "MaxSteps alone is enough")
	o.OutDir = " "
	assert.ErrorContains(t, o.ValidateOutDir(), "OutDir")
	assert.Equal(t, 5, o.TotalSteps(100))
	o.MaxSteps = 0
	o.Epochs = 3
	assert.Equal(t, 30, o.TotalSteps(10))
	assert.Equal(t, 6, o.Warmup(30), "ceil(0.2 × 30)")
	o.WarmupSteps = 2
	assert.Equal(t, 2, o.Warmup(30))
}

// TestDropoutSeed pins the seed rule that the pretraining trainer used
// before the engine existed (its resumes and golden losses depend on it).
func TestDropoutSeed(t *testing.T) {
	assert.Equal(t, int64(Mix(42, 0x64726f70, 3, 1)>>1), DropoutSeed(42, 3, 1))
	assert.NotEqual(t, DropoutSeed(42, 3, 1), DropoutSeed(42, 3, 0))
	assert.NotEqual(t, DropoutSeed(42, 3, 1), DropoutSeed(42, 4, 1))
	assert.GreaterOrEqual(t, DropoutSeed(-1, 1<<40, 7), int64(0))
}

func TestMergeObjects(t *testing.T) {
	b, err := mergeObjects(runInfo{MaxSteps: 3, Seed: 1}, map[string]any{"stage": "clin"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"max_steps":3,"warmup_steps":0,"seed":1,"stopped_early":false,"stage":"clin"}`, string(b))
	_, err = mergeObjects(runInfo{}, map[string]any{"seed": 2})
	assert.ErrorContains(t, err, `"seed"`)
	_, err = mergeObjects(runInfo{}, []int{1})
	assert.Error(t, err)
}

// TestLegacyCheckpoints: the states the NER and pretraining trainers wrote
// before the engine read as the engine's.
func TestLegacyCheckpoints(t *testing.T) {
	ner := &trainstate.State{Step: 6, Seed: 42,
		DataPosition: json.RawMessage(`{"epoch":1,"batch":4,"loss_sum":2.5,"loss_n":2,"epoch_seconds":1.5,"grad_scaler":{"scale":1024,"growth_tracker":3}}`),
		Options:      json.RawMessage(`{"labels":["O","B-C"],"scheme":1,"best_dev_f1":0.5,"best_epoch":1,"evals_without_improvement":0,"stopped_early":true,"log_history":[]}`)}
	c, err := parseCheckpoint("d", ner)
	require.NoError(t, err)
	assert.Equal(t, Position{Epoch: 1, Batch: 4}, c.Position)
	assert.Equal(t, 2.5, c.data.LossSum)
	require.NotNil(t, c.Scaler())
	assert.Equal(t, 1024.0, c.Scaler().Scale)
	assert.True(t, c.Stopped())
	maxSteps, spe, _, last := c.Info()
	assert.Equal(t, 0, maxSteps)
	assert.Equal(t, 0, spe)
	assert.True(t, last != last, "no last loss recorded")

	pre := &trainstate.State{Step: 4, Seed: 42, DataPosition: json.RawMessage(`{"epoch":0,"batch":8}`),
		Options: json.RawMessage(`{"stage":"custom","max_steps":8,"steps_per_epoch":12,"warmup_steps":2,"seed":42,"last_loss":7.5,"hyperparameters":{},"grad_scaler":{"scale":65536,"growth_tracker":4}}`)}
	c, err = parseCheckpoint("d", pre)
	require.NoError(t, err)
	maxSteps, spe, warm, last := c.Info()
	assert.Equal(t, []int{8, 12, 2}, []int{maxSteps, spe, warm})
	assert.Equal(t, 7.5, last)
	require.NotNil(t, c.Scaler())
	assert.Equal(t, 65536.0, c.Scaler().Scale)

	_, err = parseCheckpoint("d", &trainstate.State{Step: 9, DataPosition: json.RawMessage(`{"epoch":0,"batch":0}`), Options: json.RawMessage(`{"max_steps":8}`)})
	assert.ErrorContains(t, err, "beyond max_steps")
}

func TestTrimMetrics(t *testing.T) {
	p := filepath.Join(t.TempDir(), MetricsFile)
	require.NoError(t, TrimMetrics(p, 3), "a missing file is fine")
	in := `{"step":1,"kind":"train"}
{"step":2,"kind":"train"}
{"step":3,"kind":"epoch"}
{"step":4,"kind":"train"}
{"step":5,"ki`
	require.NoError(t, os.WriteFile(p, []byte(in), 0o644))
	require.NoError(t, TrimMetrics(p, 3))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "{\"step\":1,\"kind\":\"train\"}\n{\"step\":2,\"kind\":\"train\"}\n{\"step\":3,\"kind\":\"epoch\"}\n", string(b))
}
