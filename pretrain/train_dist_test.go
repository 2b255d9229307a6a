package pretrain

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/internal/dist"
	"github.com/biobertpt-go/biobertpt/internal/dist/disttest"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

// The data-parallel proof for pretraining: 2 ranks (Gloo on 127.0.0.1,
// child processes of this test binary) against one process with their
// combined batch. Every token of a block is masked (MLMProbability 1) and
// every block is one line of twelve single-token words (LineByLine), so
// that each rank's micro-batch has the same number of masked tokens and
// the mean of the ranks' mean losses
// (what averaging the gradients optimises, as DDP) is the one-process
// mean.

const distChildVar = "PRETRAIN_DIST_CHILD"

func distOptions(args map[string]string) TrainOptions {
	o := tinyOptions(args["config"], args["vocab"], args["corpus"], args["out"])
	o.BatchSize, _ = strconv.Atoi(args["batch"])
	o.GradAccum, _ = strconv.Atoi(args["accum"])
	o.Epochs, o.MLMProbability, o.WholeWordMask, o.LineByLine = 2, 1, false, true
	o.CacheDir = args["cache"]
	o.DistTimeout = 20 * time.Second
	return o
}

// TestDistChild is one rank (or the one process) of the proof's runs; it
// does nothing in a normal test run.
func TestDistChild(t *testing.T) {
	args, ok := disttest.Spec(distChildVar)
	if !ok {
		t.Skip("a child process of the data-parallel tests")
	}
	runtime.LockOSThread()
	o := distOptions(args)
	o.Log = os.Stderr
	if _, err := Train(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(3)
	}
}

// runRanks runs TestDistChild as n processes (n = 1: no distributed
// environment) and returns their exit codes and output.
func runRanks(t *testing.T, n int, spec string) ([]int, []string) {
	t.Helper()
	r := disttest.Ranks(t, n, "^TestDistChild$", distChildVar, spec)
	return r.Codes, r.Outputs
}

// metricsOf reads a run's step losses and evaluation lines.
func metricsOf(t *testing.T, out string) (losses []float64, evals []map[string]float64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, metricsFile))
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		v := map[string]float64{}
		for k, x := range m {
			if f, ok := x.(float64); ok {
				v[k] = f
			}
		}
		if _, ok := m["eval_loss"]; ok {
			evals = append(evals, v)
		} else if _, ok := m["loss"]; ok {
			losses = append(losses, v["loss"])
		}
	}
	return losses, evals
}

// TestDataParallelPretraining: 2 ranks × batch 2 pretrain what 1 process ×
// batch 4 does (per-step losses and final parameters within 1e-5), with
// and without gradient accumulation; the sharded validation counts every
// masked token once and gives the one-process perplexity.
func TestDataParallelPretraining(t *testing.T) {
	if backends, note := dist.BackendsCompiled(); !strings.Contains(strings.Join(backends, ","), "gloo") {
		t.Skipf("no Gloo backend in this build: %s", note)
	}
	dir, config, vocab, corpus := tinySetup(t, 60, 0)
	// A corpus of words that are single tokens of the vocabulary: no
	// [UNK] (a special token, never masked), so every block has BlockSize-2
	// maskable tokens.
	var words []string
	re := regexp.MustCompile(`^[a-z]{3,}$`)
	for _, w := range strings.Fields(string(demodata.Vocab())) {
		if re.MatchString(w) {
			words = append(words, w)
		}
	}
	require.Greater(t, len(words), 50)
	var text strings.Builder
	for l := 0; l < 60; l++ {
		for k := 0; k < 12; k++ {
			text.WriteString(words[(l*13+k*k+7*k)%len(words)] + " ")
		}
		text.WriteString("\n")
	}
	require.NoError(t, os.WriteFile(corpus, []byte(text.String()), 0o644))
	cache := filepath.Join(dir, "cache")
	for _, accum := range []int{1, 2} {
		spec := func(name string, batch int) (string, string) {
			out := filepath.Join(dir, fmt.Sprintf("%s-accum%d", name, accum))
			return out, fmt.Sprintf("config=%s;vocab=%s;corpus=%s;cache=%s;out=%s;batch=%d;accum=%d", config, vocab, corpus, cache, out, batch, accum)
		}
		one, s1 := spec("one", 4)
		codes, outs := runRanks(t, 1, s1)
		require.Equal(t, []int{0}, codes, outs)
		two, s2 := spec("two", 2)
		codes, outs = runRanks(t, 2, s2)
		require.Equal(t, []int{0, 0}, codes, strings.Join(outs, "\n"))
		assert.Contains(t, outs[0], fmt.Sprintf("effective batch %d (batch 2 × 2 processes × grad-accum %d)", 4*accum, accum))
		assert.Empty(t, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(outs[1]), "PASS")), "rank 1 writes nothing")

		lo, eo := metricsOf(t, one)
		lt, et := metricsOf(t, two)
		require.NotEmpty(t, lo)
		require.Len(t, lt, len(lo), "accum %d: steps", accum)
		for i := range lo {
			assert.InDelta(t, lo[i], lt[i], 1e-5, "accum %d: step %d loss", accum, i+1)
		}
		require.Len(t, et, len(eo))
		for i := range eo {
			assert.Equal(t, eo[i]["eval_tokens"], et[i]["eval_tokens"], "accum %d: eval %d tokens", accum, i)
			assert.InEpsilon(t, eo[i]["perplexity"], et[i]["perplexity"], 1e-5, "accum %d: eval %d perplexity", accum, i)
		}
		po, pt := finalParams(t, one), finalParams(t, two)
		worst := 0.0
		for name, w := range po {
			for i := range w {
				worst = math.Max(worst, math.Abs(w[i]-pt[name][i]))
			}
		}
		assert.LessOrEqual(t, worst, 1e-5, "accum %d: final parameters", accum)
		t.Logf("accum %d: %d steps, largest parameter difference %.2g", accum, len(lo), worst)
	}
}

// finalParams reads a run's final model.
func finalParams(t *testing.T, out string) map[string][]float64 {
	t.Helper()
	cs, err := trainstate.List(filepath.Join(out, "checkpoints"))
	if err != nil || len(cs) == 0 {
		cs, err = trainstate.List(out)
	}
	require.NoError(t, err)
	require.NotEmpty(t, cs)
	m, _, err := bert.LoadForMaskedLM(cs[0].Dir, bert.LoadOptions{})
	require.NoError(t, err)
	defer m.Close()
	ps := map[string][]float64{}
	for _, p := range m.Parameters() {
		ps[p.Name] = p.Tensor.Float64Values()
	}
	return ps
}
