package progress

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)} }

func TestPlainLinesEveryInterval(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, 100, Options{Mode: Plain, Interval: 10 * time.Second, Now: c.now})
	for step := 1; step <= 30; step++ {
		c.add(time.Second)
		b.Update(step, Fields{Loss: 2, LR: 3e-5, Tokens: 1000, Epoch: float64(step) / 50})
	}
	require.NoError(t, b.Finish())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// First update draws, then every 10 s (steps 11, 21), then Finish.
	require.Len(t, lines, 4)
	assert.NotContains(t, buf.String(), "\r")
	assert.Equal(t, "step 30/100 (30.0%) | epoch 0.60 | loss 2.0000 | lr 3e-05 | 1.0k tok/s | 0:00:30 < 0:01:10", lines[3])
	assert.True(t, strings.HasPrefix(lines[1], "step 11/100"), lines[1])
}

func TestTerminalRedrawRate(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, 0, Options{Mode: Terminal, Now: c.now, Prefix: "mlm"})
	for step := 1; step <= 40; step++ {
		c.add(50 * time.Millisecond) // 20 updates/s → 4 draws/s
		b.Update(step, Fields{Loss: math.NaN(), LR: 1e-4})
	}
	require.NoError(t, b.Finish())
	out := buf.String()
	// Updates at 50 ms … 2 s: draws at 50 ms, then 300, 550, …, 1800 ms
	// (7 more, each ≥ 250 ms after the previous), plus Finish.
	assert.Equal(t, 1+7+1, strings.Count(out, "\r"))
	assert.True(t, strings.HasSuffix(out, "\n"))
	assert.NotContains(t, out, "loss", "NaN losses are not shown")
	assert.Contains(t, out, "\rmlm step 40 | epoch 0.00 | lr 0.0001 | 0:00:02\n")
}

func TestTerminalClearsLongerLine(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	b := New(&buf, 0, Options{Mode: Terminal, Now: c.now})
	b.Update(1, Fields{Loss: math.NaN(), Extra: map[string]float64{"f1": 0.5}})
	buf.Reset()
	c.add(time.Second)
	b.Update(2, Fields{Loss: math.NaN()})
	s := buf.String()
	assert.Equal(t, "\rstep 2 | epoch 0.00 | lr 0 | 0:00:01"+strings.Repeat(" ", len(" | f1 0.5")), s)
}

func TestSmoothedLossAndETA(t *testing.T) {
	c := newClock()
	b := New(&bytes.Buffer{}, 110, Options{Mode: Plain, Smoothing: 0.5, StartStep: 10, Now: c.now})
	c.add(10 * time.Second)
	b.Update(11, Fields{Loss: 4})
	assert.InDelta(t, 4, b.Loss(), 1e-12, "debiased: the first loss exactly")
	c.add(10 * time.Second)
	b.Update(12, Fields{Loss: 2})
	// s = 0.5·(0.5·4) + 0.5·2 = 2; debias 1 − 0.25 → 8/3
	assert.InDelta(t, 8.0/3, b.Loss(), 1e-12)
	// 2 steps in 20 s since the resume at step 10 → 98 steps left = 980 s.
	assert.Contains(t, b.Line(), "< 0:16:20")
	assert.Contains(t, b.Line(), "step 12/110")
}

func TestClockAndRate(t *testing.T) {
	assert.Equal(t, "0:00:00", clock(-time.Second))
	assert.Equal(t, "1:01:01", clock(time.Hour+time.Minute+time.Second))
	assert.Equal(t, "2d03:00:00", clock(51*time.Hour))
	assert.Equal(t, "12", humanRate(12.3))
	assert.Equal(t, "34.6k", humanRate(34567))
	assert.Equal(t, "1.23M", humanRate(1.234e6))
}

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, Options{}.Validate())
	assert.ErrorContains(t, Options{Refresh: -1}.Validate(), "Refresh")
	assert.ErrorContains(t, Options{Interval: -1}.Validate(), "Interval")
	assert.ErrorContains(t, Options{Smoothing: 2}.Validate(), "Smoothing")
	assert.ErrorContains(t, Options{StartStep: -1}.Validate(), "StartStep")
	assert.ErrorContains(t, Options{Mode: 7}.Validate(), "Mode")
	assert.False(t, IsTerminal(&bytes.Buffer{}))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestFinishReportsWriteError(t *testing.T) {
	b := New(failWriter{}, 1, Options{Mode: Plain})
	b.Update(1, Fields{})
	assert.ErrorIs(t, b.Finish(), os.ErrClosed)
}

func TestMetricsLogJSONL(t *testing.T) {
	c := newClock()
	p := filepath.Join(t.TempDir(), "metrics.jsonl")
	m, err := OpenMetricsLog(p, MetricsOptions{Now: c.now})
	require.NoError(t, err)
	require.NoError(t, m.Log(10, "train", map[string]float64{"loss": 2.5, "lr": 3e-5}))
	c.add(time.Minute)
	require.NoError(t, m.Log(20, "eval", map[string]float64{"f1": 0.8, "bad": math.NaN()}))
	assert.ErrorContains(t, m.Log(1, "x", map[string]float64{"step": 1}), "reserved")
	require.NoError(t, m.Close())
	// Reopening appends.
	m, err = OpenMetricsLog(p, MetricsOptions{Now: c.now})
	require.NoError(t, err)
	require.NoError(t, m.Log(30, "train", nil))
	require.NoError(t, m.Close())
	assert.ErrorContains(t, m.Log(1, "x", nil), "closed")

	b, err := os.ReadFile(p)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, `{"time":"2024-01-02T03:04:05Z","step":10,"kind":"train","loss":2.5,"lr":3e-05}`, lines[0])
	assert.Equal(t, `{"time":"2024-01-02T03:05:05Z","step":20,"kind":"eval","bad":null,"f1":0.8}`, lines[1])
	for _, l := range lines {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &v), l)
	}
}

func TestMetricsLogCSV(t *testing.T) {
	c := newClock()
	p := filepath.Join(t.TempDir(), "metrics.csv")
	m, err := OpenMetricsLog(p, MetricsOptions{CSV: true, Now: c.now})
	require.NoError(t, err)
	require.NoError(t, m.Log(1, "train", map[string]float64{"loss": 2, "lr": 0.1}))
	require.NoError(t, m.Log(2, "train", map[string]float64{"loss": 1.5}))
	assert.ErrorContains(t, m.Log(3, "eval", map[string]float64{"f1": 1}), `column "f1" not in the CSV header`)
	require.NoError(t, m.Close())
	m, err = OpenMetricsLog(p, MetricsOptions{CSV: true, Now: c.now})
	require.NoError(t, err)
	require.NoError(t, m.Log(4, "train", map[string]float64{"lr": 0.05, "loss": 1}))
	require.NoError(t, m.Close())
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "time,step,kind,loss,lr\n"+
		"2024-01-02T03:04:05Z,1,train,2,0.1\n"+
		"2024-01-02T03:04:05Z,2,train,1.5,\n"+
		"2024-01-02T03:04:05Z,4,train,1,0.05\n", string(b))

	bad := filepath.Join(t.TempDir(), "x.csv")
	require.NoError(t, os.WriteFile(bad, []byte("a,b\n"), 0o644))
	_, err = OpenMetricsLog(bad, MetricsOptions{CSV: true})
	assert.ErrorContains(t, err, "not a metrics CSV")
}
