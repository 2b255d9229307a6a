package trainstate

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// fakeModel writes a config.json and a model.safetensors like bert's Save.
func fakeModel(v float32) func(dir string) error {
	return func(dir string) error {
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"hidden_size": 4}`), 0o644); err != nil {
			return err
		}
		w, err := safetensors.FromFloat32s(safetensors.F32, []int64{2, 2}, []float32{v, v, v, v})
		if err != nil {
			return err
		}
		return safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), map[string]safetensors.Tensor{"w": w}, map[string]string{"format": "pt"})
	}
}

func score(x float64) *float64 { return &x }

func TestSaveLoadRoundTrip(t *testing.T) {
	out := t.TempDir()
	s := &State{
		Step: 40, Epoch: 1.5, Seed: 42,
		DataPosition: json.RawMessage(`{"epoch":1,"batch":17}`),
		RNG:          []byte{1, 2, 3, 250},
		BestScore:    score(0.87), BestStep: 20,
		Options: json.RawMessage(`{"lr":3e-5}`),
	}
	require.NoError(t, Save(out, s, fakeModel(1), nil))
	dir, err := Latest(out)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(out, "checkpoint-40"), dir)
	got, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, FormatVersion, got.Version)
	assert.Equal(t, s.Step, got.Step)
	assert.Equal(t, s.Epoch, got.Epoch)
	assert.JSONEq(t, string(s.DataPosition), string(got.DataPosition))
	assert.Equal(t, s.RNG, got.RNG)
	assert.Equal(t, 0.87, *got.BestScore)
	assert.Equal(t, int64(20), got.BestStep)
	assert.JSONEq(t, string(s.Options), string(got.Options))
	assert.Equal(t, int64(42), got.Seed)
	assert.Contains(t, got.Files, "config.json")
	assert.Contains(t, got.Files, "model.safetensors")
	ptr, err := os.ReadFile(filepath.Join(out, LatestFile))
	require.NoError(t, err)
	assert.Equal(t, "checkpoint-40\n", string(ptr))
	es, _ := os.ReadDir(out)
	assert.Len(t, es, 2, "checkpoint-40 and latest, no temporaries")
}

func TestSaveErrors(t *testing.T) {
	out := t.TempDir()
	assert.ErrorContains(t, Save(out, nil, nil, nil), "nil state")
	assert.ErrorContains(t, Save(out, &State{Step: -1}, nil, nil), "negative step")
	assert.ErrorContains(t, Save(out, &State{Options: json.RawMessage("{")}, nil, nil), "not valid JSON")
	boom := errors.New("disk full")
	err := Save(out, &State{Step: 3}, func(string) error { return boom }, nil)
	require.ErrorIs(t, err, boom)
	_, err = Latest(out)
	require.ErrorIs(t, err, fs.ErrNotExist, "a failed save leaves nothing")
}

func TestLatestFallsBackOverDamage(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"truncated model", func(t *testing.T, dir string) {
			require.NoError(t, os.Truncate(filepath.Join(dir, "model.safetensors"), 20))
		}},
		{"truncated trainer_state.json", func(t *testing.T, dir string) {
			require.NoError(t, os.Truncate(filepath.Join(dir, StateFile), 10))
		}},
		{"missing optimizer-free model file", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "config.json")))
		}},
		{"garbled safetensors header, same size", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "model.safetensors")
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			b[8] = '['
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}},
		{"garbled config, same size", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "config.json")
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			b[0] = 'x'
			require.NoError(t, os.WriteFile(p, b, 0o644))
		}},
		{"killed mid-write: no trainer_state.json", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, StateFile)))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			require.NoError(t, Save(out, &State{Step: 10}, fakeModel(1), nil))
			require.NoError(t, Save(out, &State{Step: 20}, fakeModel(2), nil))
			tc.damage(t, filepath.Join(out, "checkpoint-20"))
			dir, err := Latest(out)
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(out, "checkpoint-10"), dir)
			_, err = Load(filepath.Join(out, "checkpoint-20"))
			assert.ErrorContains(t, err, "checkpoint-20")
		})
	}
}

func TestLatestAfterKillDuringSave(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, Save(out, &State{Step: 10}, fakeModel(1), nil))
	// A save killed while building checkpoint-20: only the temp directory.
	tmp := filepath.Join(out, ".checkpoint-20.tmp-999")
	require.NoError(t, os.MkdirAll(tmp, 0o755))
	require.NoError(t, fakeModel(2)(tmp))
	// A save of step 10 killed between its two renames: the good
	// checkpoint-10 is aside and the name is free.
	require.NoError(t, os.Rename(filepath.Join(out, "checkpoint-10"), filepath.Join(out, ".checkpoint-10.old-5")))
	dir, err := Latest(out)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(out, "checkpoint-10"), dir)
	es, _ := os.ReadDir(out)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"checkpoint-10", LatestFile}, names)

	// Nothing valid at all.
	require.NoError(t, os.Remove(filepath.Join(out, "checkpoint-10", StateFile)))
	_, err = Latest(out)
	assert.ErrorContains(t, err, "no valid checkpoint")
}

func TestRotateKeepsNewestAndBest(t *testing.T) {
	out := t.TempDir()
	for _, step := range []int64{10, 20, 30, 40, 50} {
		require.NoError(t, Save(out, &State{Step: step, BestScore: score(0.9), BestStep: 20}, fakeModel(1), nil))
	}
	removed, err := Rotate(out, 2)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{filepath.Join(out, "checkpoint-30"), filepath.Join(out, "checkpoint-10")}, removed)
	cs, err := List(out)
	require.NoError(t, err)
	var steps []int64
	for _, c := range cs {
		steps = append(steps, c.Step)
	}
	assert.Equal(t, []int64{50, 40, 20}, steps)
	removed, err = Rotate(out, 0)
	require.NoError(t, err)
	assert.Empty(t, removed)
}

func newParam(t *testing.T, vals []float32) *ts.Tensor {
	x, err := ts.OfSlice(vals)
	require.NoError(t, err)
	x, err = x.SetRequiresGrad(true, true)
	require.NoError(t, err)
	return x
}

// trainSteps runs n steps of loss = Σ w³ on w.
func trainSteps(t *testing.T, w *ts.Tensor, opt *optim.AdamW, n int) {
	for i := 0; i < n; i++ {
		require.NoError(t, opt.ZeroGrad())
		sq := w.MustMul(w, false)
		cu := sq.MustMul(w, false)
		loss := cu.MustSum(gotch.Float, false)
		require.NoError(t, loss.Backward())
		for _, x := range []*ts.Tensor{sq, cu, loss} {
			x.MustDrop()
		}
		require.NoError(t, opt.Step(0.01))
	}
}

func vals(t *testing.T, x *ts.Tensor) []float32 {
	v := make([]float32, x.Numel())
	require.NoError(t, x.CopyData(v, x.Numel()))
	return v
}

func TestOptimizerCheckpointResume(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	init := []float32{0.5, -1, 2, 0.25}

	a := newParam(t, init)
	defer a.MustDrop()
	optA, err := optim.NewAdamW([]optim.Param{{Name: "w", Tensor: a}}, optim.DefaultAdamWOptions())
	require.NoError(t, err)
	defer optA.Close()
	trainSteps(t, a, optA, 12)

	b := newParam(t, init)
	defer b.MustDrop()
	optB, err := optim.NewAdamW([]optim.Param{{Name: "w", Tensor: b}}, optim.DefaultAdamWOptions())
	require.NoError(t, err)
	defer optB.Close()
	trainSteps(t, b, optB, 5)
	out := t.TempDir()
	saved := vals(t, b)
	require.NoError(t, Save(out, &State{Step: 5}, fakeModel(0), optB))

	dir, err := Latest(out)
	require.NoError(t, err)
	st, err := Load(dir)
	require.NoError(t, err)
	assert.Equal(t, int64(5), st.OptimizerSteps)
	assert.Contains(t, st.Files, OptimizerFile)
	c := newParam(t, saved)
	defer c.MustDrop()
	optC, err := optim.NewAdamW([]optim.Param{{Name: "w", Tensor: c}}, optim.DefaultAdamWOptions())
	require.NoError(t, err)
	defer optC.Close()
	require.NoError(t, LoadOptimizer(dir, optC))
	assert.Equal(t, int64(5), optC.Steps())
	trainSteps(t, c, optC, 7)
	assert.Equal(t, vals(t, a), vals(t, c), "resumed run is bit-identical")

	// An optimizer over other parameters refuses the state.
	d := newParam(t, saved)
	defer d.MustDrop()
	optD, err := optim.NewAdamW([]optim.Param{{Name: "other", Tensor: d}}, optim.DefaultAdamWOptions())
	require.NoError(t, err)
	defer optD.Close()
	assert.ErrorContains(t, LoadOptimizer(dir, optD), `unknown key "w.exp_avg"`)
}

// TestChecksums: a checkpoint records the SHA-256 of its files; a changed
// byte that keeps the size passes Validate (sizes and headers) but not
// Load, and Latest falls back to the previous checkpoint.
func TestChecksums(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, Save(out, &State{Step: 1}, fakeModel(1), nil))
	require.NoError(t, Save(out, &State{Step: 2}, fakeModel(2), nil))
	dir := filepath.Join(out, DirName(2))
	st, err := Load(dir)
	require.NoError(t, err)
	require.Len(t, st.SHA256["model.safetensors"], 64)
	assert.Len(t, st.SHA256, len(st.Files))

	p := filepath.Join(dir, "model.safetensors")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[len(b)-1] ^= 0x40 // a flipped bit in the last weight
	require.NoError(t, os.WriteFile(p, b, 0o644))
	_, err = Validate(dir)
	assert.NoError(t, err, "sizes and headers still agree")
	_, err = Load(dir)
	assert.ErrorContains(t, err, "model.safetensors has SHA-256")
	got, err := Latest(out)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(out, DirName(1)), got)
}

// TestRotateRemovesOnlyCheckpointFiles: rotation deletes a checkpoint's
// own files; a file someone else put there keeps the directory.
func TestRotateRemovesOnlyCheckpointFiles(t *testing.T) {
	out := t.TempDir()
	for step := int64(1); step <= 3; step++ {
		require.NoError(t, Save(out, &State{Step: step}, fakeModel(float32(step)), nil))
	}
	require.NoError(t, os.WriteFile(filepath.Join(out, DirName(1), "notes.txt"), []byte("mine"), 0o644))
	removed, err := Rotate(out, 1)
	require.NoError(t, err)
	assert.Len(t, removed, 2)
	assert.NoDirExists(t, filepath.Join(out, DirName(2)))
	assert.FileExists(t, filepath.Join(out, DirName(1), "notes.txt"))
	assert.NoFileExists(t, filepath.Join(out, DirName(1), StateFile))
	assert.NoFileExists(t, filepath.Join(out, DirName(1), "model.safetensors"))
	got, err := Latest(out)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(out, DirName(3)), got)
}
