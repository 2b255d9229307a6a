package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

func TestBenchTinyCPU(t *testing.T) {
	for _, tc := range []struct{ task, dtype string }{{"ner", "fp32"}, {"mlm", "fp32"}, {"ner", "bf16"}, {"mlm", "bf16"}} {
		task := tc.task
		t.Run(task+" "+tc.dtype, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(&env{stdout: &out, stderr: &errb}, []string{"bench", "-task", task, "-config", "tiny",
				"-batch", "2", "-seq", "16", "-steps", "3", "-warmup", "1", "-device", "cpu", "-dtype", tc.dtype, "-json"})
			require.Equal(t, 0, code, errb.String())
			lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
			require.Len(t, lines, 1, "one JSON line")
			var got map[string]any
			require.NoError(t, json.Unmarshal(lines[0], &got))
			for _, k := range []string{"task", "batch", "seq", "dtype", "ms_per_step", "tokens_per_s", "peak_mem_gib", "device", "peak_mem_kind"} {
				assert.Contains(t, got, k)
			}
			assert.Equal(t, task, got["task"])
			assert.Equal(t, 2.0, got["batch"])
			assert.Equal(t, 16.0, got["seq"])
			assert.Equal(t, tc.dtype, got["dtype"])
			assert.Greater(t, got["ms_per_step"], 0.0)
			assert.Greater(t, got["tokens_per_s"], 0.0)
			assert.Greater(t, got["peak_mem_gib"], 0.0)
			assert.Contains(t, got["device"], "cpu")
			assert.Equal(t, "adamw_biobertpt_foreach", got["optim"], "-adamw auto on the CPU")
			assert.Empty(t, errb.String(), "-json prints nothing else")
		})
	}
}

func TestBenchSummaryAndSoak(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(&env{stdout: &out, stderr: &errb}, []string{"bench", "-config", "tiny", "-batch", "1", "-seq", "8",
		"-steps", "2", "-warmup", "0", "-soak", "20"})
	require.Equal(t, 0, code, errb.String())
	var got struct {
		Soak struct {
			Steps        int `json:"steps"`
			TensorsStart int `json:"tensors_start"`
			TensorsEnd   int `json:"tensors_end"`
		} `json:"soak"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	assert.Equal(t, 20, got.Soak.Steps)
	assert.Equal(t, got.Soak.TensorsStart, got.Soak.TensorsEnd)
	assert.Contains(t, errb.String(), "ms/step")
	assert.Contains(t, errb.String(), "soak 20 steps")
}

func TestBenchErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown dtype", []string{"-dtype", "fp8"}, 2, `DType "fp8"`},
		{"unknown task", []string{"-task", "pos"}, 2, `Task "pos"`},
		{"seq too long", []string{"-seq", "65"}, 2, "max_position_embeddings 64"},
		{"zero steps", []string{"-steps", "0"}, 2, "-steps 0: want >= 1"},
		{"bad device", []string{"-device", "tpu"}, 2, "want cpu, cuda or cuda:N"},
		{"extra argument", []string{"x"}, 2, "unexpected arguments"},
		{"tf32 on cpu", []string{"-dtype", "tf32"}, 1, "tf32"},
		{"unknown adamw", []string{"-adamw", "lamb"}, 2, `AdamW "lamb"`},
		{"negative max memory", []string{"-max-memory", "-1"}, 2, "-max-memory -1: want >= 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"bench", "-config", "tiny", "-batch", "1", "-seq", "8", "-steps", "1", "-warmup", "0"}, tc.args...)
			code := run(&env{stdout: &out, stderr: &errb}, args)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, errb.String(), tc.want)
			assert.Empty(t, out.String())
		})
	}
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run(&env{stdout: &out, stderr: &errb}, []string{"bench", "-config", "no/such/config.json"}))
	assert.Contains(t, errb.String(), "want mbert, small, tiny or a config.json")
}

// TestBenchMaxMemory: -max-memory below what the process holds fails with
// an error wrapping torchutil.ErrOutOfMemory that carries the hint (exit
// status 1, not a crash); a generous cap passes and is in the JSON line.
func TestBenchMaxMemory(t *testing.T) {
	args := []string{"-config", "tiny", "-batch", "1", "-seq", "8", "-steps", "2", "-warmup", "0", "-json"}
	var out, errb bytes.Buffer
	err := runBench(&env{stdout: &out, stderr: &errb}, append(append([]string{}, args...), "-max-memory", "0.001"))
	require.Error(t, err)
	assert.ErrorIs(t, err, torchutil.ErrOutOfMemory)
	assert.Regexp(t, `is over the memory cap 0\.001 GiB \(1073741 bytes\): out of memory: `+regexp.QuoteMeta(torchutil.OOMHint), err.Error())
	assert.Empty(t, out.String(), "no JSON line for a failed run")

	out.Reset()
	errb.Reset()
	code := run(&env{stdout: &out, stderr: &errb}, append([]string{"bench", "-max-memory", "0.001"}, args...))
	assert.Equal(t, 1, code)
	assert.Contains(t, errb.String(), "out of memory: "+torchutil.OOMHint)

	out.Reset()
	errb.Reset()
	code = run(&env{stdout: &out, stderr: &errb}, append([]string{"bench", "-max-memory", "64"}, args...))
	require.Equal(t, 0, code, errb.String())
	var got map[string]any
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(out.Bytes()), &got))
	assert.Equal(t, 64.0, got["max_memory_gib"])
	assert.Less(t, got["peak_mem_gib"], 64.0)
}
