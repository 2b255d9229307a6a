package ner

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/internal/dist"
	"github.com/biobertpt-go/biobertpt/internal/dist/disttest"
	"github.com/biobertpt-go/biobertpt/internal/trainstate"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// The data-parallel proof: NER training as 2 ranks (Gloo on 127.0.0.1, each
// rank a child process of this test binary) against one process with the
// ranks' combined batch. The corpus's sentences all have six words that
// are single tokens of the vocabulary, so that every micro-batch has the
// same number of labelled tokens and the mean of the ranks' mean losses
// (what averaging the gradients optimises, as DDP) is the one-process
// mean loss.

// distChildVar names the child's arguments (a JSON-free "k=v;k=v" list).
const distChildVar = "NER_DIST_CHILD"

// distSplit is the fixed corpus: 16 training sentences, 8 dev, 8 test.
func distSplit(tok *tokenize.Tokenizer) Split {
	var words []string
	for _, w := range strings.Fields(string(demodata.Vocab())) {
		if regexp.MustCompile(`^[a-z]{3,}$`).MatchString(w) {
			if ids, _ := tok.EncodeIDs(w); len(ids) == 1 {
				words = append(words, w)
			}
		}
		if len(words) == 40 {
			break
		}
	}
	corpus := func(first, n int) *Corpus {
		c := &Corpus{}
		for d := 0; d < n/4; d++ {
			doc := Document{ID: fmt.Sprintf("d%d", first+d)}
			doc.Group = doc.ID
			for s := 0; s < 4; s++ {
				var sent Sentence
				for k := 0; k < 6; k++ {
					i := (7*(first+4*d+s) + 3*k + k*k) % len(words)
					tag := "O"
					if i%5 == 0 {
						tag = "B-X"
					} else if i%5 == 1 && k > 0 && sent.Tags[k-1] != "O" {
						tag = "I-X"
					}
					sent.Words = append(sent.Words, words[i])
					sent.Tags = append(sent.Tags, tag)
				}
				doc.Sentences = append(doc.Sentences, sent)
			}
			c.Documents = append(c.Documents, doc)
		}
		return c
	}
	return Split{Train: corpus(0, 16), Dev: corpus(100, 8), Test: corpus(200, 8)}
}

// distOptions is every run's training: 2 epochs, a checkpoint every 2
// steps, one step line per step.
func distOptions(out string, batch, accum int) TrainOptions {
	o := fastOptions(out)
	o.MaxLen, o.Stride = 32, 8
	o.Epochs, o.BatchSize, o.GradAccum, o.EvalBatchSize = 2, batch, accum, 3
	o.LogSteps, o.SaveSteps, o.Resume = 1, 2, true
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
	num := func(k string) int {
		n, _ := strconv.Atoi(args[k])
		return n
	}
	tok, err := tokenize.LoadVocabFile(args["vocab"], tokenize.DefaultOptions())
	require.NoError(t, err)
	o := distOptions(args["out"], num("batch"), num("accum"))
	o.Log = os.Stderr
	if o.DistTimeout, err = time.ParseDuration(args["timeout"]); err != nil {
		o.DistTimeout = 20 * time.Second
	}
	if kill := num("kill"); kill > 0 && os.Getenv("RANK") == "1" {
		steps := 0
		o.onFault(func(point string) {
			if point == "step" {
				if steps++; steps == kill {
					_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
		})
	}
	_, err = Train(context.Background(), args["model"], tok, distSplit(tok), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		os.Exit(3)
	}
}

// startRanks runs TestDistChild as n processes (n = 1: no distributed
// environment) and waits for all of them.
func startRanks(t *testing.T, n int, args string) disttest.Run {
	t.Helper()
	return disttest.Ranks(t, n, "^TestDistChild$", distChildVar, args)
}

// distLosses reads the step losses of a run's metrics.jsonl.
func distLosses(t *testing.T, out string) []float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(out, MetricsFileName))
	require.NoError(t, err)
	defer f.Close()
	var losses []float64
	sc := bufio.NewScanner(f)
	re := regexp.MustCompile(`"kind":"train".*"loss":([-0-9.e+]+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			l, err := strconv.ParseFloat(m[1], 64)
			require.NoError(t, err)
			losses = append(losses, l)
		}
	}
	if len(losses) == 0 { // key order of the JSON line: read it as JSON
		for _, l := range readJSONL(t, filepath.Join(out, MetricsFileName)) {
			if l["kind"] == "train" {
				losses = append(losses, l["loss"].(float64))
			}
		}
	}
	return losses
}

// distParams reads the parameters of a run's last checkpoint.
func distParams(t *testing.T, out string) map[string][]float64 {
	t.Helper()
	cs, err := trainstate.List(out)
	require.NoError(t, err)
	require.NotEmpty(t, cs)
	m, _, err := bert.LoadForTokenClassification(cs[0].Dir, bert.LoadOptions{})
	require.NoError(t, err)
	defer freeModel(m)
	ps := map[string][]float64{}
	for _, p := range m.Parameters() {
		ps[p.Name] = p.Tensor.Float64Values()
	}
	return ps
}

func assertClose(t *testing.T, want, got map[string][]float64, tol float64, what string) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	worst, where := 0.0, ""
	for name, w := range want {
		g := got[name]
		require.Len(t, g, len(w), "%s: %s", what, name)
		for i := range w {
			if d := math.Abs(w[i] - g[i]); d > worst {
				worst, where = d, fmt.Sprintf("%s[%d]", name, i)
			}
		}
	}
	assert.LessOrEqual(t, worst, tol, "%s: largest parameter difference at %s", what, where)
	t.Logf("%s: largest parameter difference %.2g (%s)", what, worst, where)
}

// TestDataParallelTraining: 2 ranks × batch 2 train what 1 process × batch
// 4 does (per-step losses and final parameters within 1e-5), with and
// without gradient accumulation; the sharded dev and test evaluations
// equal the one-process ones; a rank killed mid-run makes the other exit
// non-zero within the timeout, and the rerun with resume ends where the
// uninterrupted 2-rank run does.
func TestDataParallelTraining(t *testing.T) {
	if _, err := exec.LookPath(os.Args[0]); err != nil && !filepath.IsAbs(os.Args[0]) {
		t.Skip("the test binary cannot be re-run")
	}
	if backends, note := dist.BackendsCompiled(); !strings.Contains(strings.Join(backends, ","), "gloo") {
		t.Skipf("no Gloo backend in this build: %s", note)
	}
	tok := demoTokenizer(t)
	vocab := filepath.Join(t.TempDir(), "vocab.txt")
	require.NoError(t, os.WriteFile(vocab, demodata.Vocab(), 0o644))
	model := saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"LABEL_0", "LABEL_1"}, -1)
	base := t.TempDir()
	spec := func(out string, batch, accum, kill int) string {
		return fmt.Sprintf("vocab=%s;model=%s;out=%s;batch=%d;accum=%d;kill=%d;timeout=10s", vocab, model, out, batch, accum, kill)
	}
	run := func(name string, n, batch, accum, kill int) (string, disttest.Run) {
		out := filepath.Join(base, name)
		return out, startRanks(t, n, spec(out, batch, accum, kill))
	}
	for _, accum := range []int{1, 2} {
		one, r1 := run(fmt.Sprintf("one-accum%d", accum), 1, 4, accum, 0)
		require.Equal(t, []int{0}, r1.Codes, r1.Outputs)
		two, r2 := run(fmt.Sprintf("two-accum%d", accum), 2, 2, accum, 0)
		require.Equal(t, []int{0, 0}, r2.Codes, strings.Join(r2.Outputs, "\n"))
		assert.Contains(t, r2.Outputs[0], fmt.Sprintf("effective batch %d (batch 2 × 2 processes × grad-accum %d)", 4*accum, accum))
		lo, lt := distLosses(t, one), distLosses(t, two)
		require.Len(t, lt, len(lo))
		require.Len(t, lo, 8/accum)
		for i := range lo {
			assert.InDelta(t, lo[i], lt[i], 1e-5, "accum %d: step %d loss", accum, i+1)
		}
		assertClose(t, distParams(t, one), distParams(t, two), 1e-5, fmt.Sprintf("accum %d", accum))
		// Sharded evaluation: the same test report.
		ro, err := os.ReadFile(filepath.Join(one, TestReportJSONName))
		require.NoError(t, err)
		rt, err := os.ReadFile(filepath.Join(two, TestReportJSONName))
		require.NoError(t, err)
		assert.JSONEq(t, string(ro), string(rt), "accum %d: test report", accum)
		// Only rank 0 wrote: one metrics line per step.
		assert.Len(t, readJSONL(t, filepath.Join(two, MetricsFileName)), len(readJSONL(t, filepath.Join(one, MetricsFileName))))
	}

	// Rank 1 dies (SIGKILL) after step 5: rank 0 fails within the timeout.
	killed, rk := run("killed", 2, 2, 1, 5)
	require.Equal(t, -int(syscall.SIGKILL), rk.Codes[1], rk.Outputs[1])
	assert.NotEqual(t, 0, rk.Codes[0], rk.Outputs[0])
	assert.Less(t, rk.Seconds[0]-rk.Seconds[1], 10.0, "rank 0 outlived the dead rank by more than the timeout")
	assert.Contains(t, rk.Outputs[0], "a peer process exited, stalled or disagrees")
	// The rerun resumes from the last checkpoint (step 4) and ends with the
	// uninterrupted run's parameters.
	rr := startRanks(t, 2, spec(killed, 2, 1, 0))
	require.Equal(t, []int{0, 0}, rr.Codes, strings.Join(rr.Outputs, "\n"))
	assert.Contains(t, rr.Outputs[0], "resumed from")
	assertClose(t, distParams(t, filepath.Join(base, "two-accum1")), distParams(t, killed), 1e-6, "resumed after a kill")
	// One process cannot resume a 2-process run.
	r1 := startRanks(t, 1, spec(filepath.Join(base, "two-accum1"), 2, 1, 0))
	require.NotEqual(t, 0, r1.Codes[0])
	assert.Contains(t, r1.Outputs[0], "was written by 2 processes, this run has 1")
}
