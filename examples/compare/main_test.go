package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/metrics"
)

var testTypes = []string{"Anatomy", "Condition", "DeviceAid", "Dosage", "Measurement", "Procedure", "Result", "Route", "Therapeutic", "Time"}

// synthGold makes n sentences of 12 tokens with random entities.
func synthGold(n int, seed uint64) [][]string {
	rng := rand.New(rand.NewPCG(seed, 1))
	gold := make([][]string, n)
	for i := range gold {
		s := make([]string, 12)
		for j := range s {
			s[j] = "O"
		}
		for j := 0; j < len(s); {
			if rng.Float64() < 0.3 {
				t := testTypes[rng.IntN(len(testTypes))]
				l := 1 + rng.IntN(3)
				for k := 0; k < l && j+k < len(s); k++ {
					s[j+k] = "I-" + t
				}
				s[j] = "B-" + t
				j += l + 1
			} else {
				j++
			}
		}
		gold[i] = s
	}
	return gold
}

// synthPred copies each gold entity with probability q, else drops it or
// gives it another type.
func synthPred(gold [][]string, q float64, seed uint64) [][]string {
	rng := rand.New(rand.NewPCG(seed, 2))
	pred := make([][]string, len(gold))
	for i, s := range gold {
		p := make([]string, len(s))
		copy(p, s)
		for _, e := range metrics.Entities(s, metrics.IOB2, metrics.Conlleval) {
			if rng.Float64() < q {
				continue
			}
			if rng.Float64() < 0.5 {
				for k := e.Start; k < e.End; k++ {
					p[k] = "O"
				}
			} else {
				t := testTypes[(indexOf(e.Type)+1+rng.IntN(len(testTypes)-1))%len(testTypes)]
				p[e.Start] = "B-" + t
				for k := e.Start + 1; k < e.End; k++ {
					p[k] = "I-" + t
				}
			}
		}
		pred[i] = p
	}
	return pred
}

func indexOf(t string) int {
	for i, x := range testTypes {
		if x == t {
			return i
		}
	}
	return -1
}

// writeResult writes a result directory the way ner.Train and the ner-*
// examples do: test_report.json from metrics, test_predictions.txt in
// conlleval format, and (when model != "") results.json.
func writeResult(t *testing.T, dir, model, corpus string, gold, pred [][]string, withPred bool) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	rep, err := metrics.Evaluate(gold, pred, metrics.Options{Scheme: metrics.IOB2, Mode: metrics.Conlleval})
	require.NoError(t, err)
	b, err := json.MarshalIndent(rep, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "test_report.json"), b, 0o644))
	if withPred {
		var sb strings.Builder
		for i := range gold {
			for j := range gold[i] {
				fmt.Fprintf(&sb, "w%d %s %s\n", j, gold[i][j], pred[i][j])
			}
			sb.WriteString("\n")
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "test_predictions.txt"), []byte(sb.String()), 0o644))
	}
	if model != "" {
		m, err := json.Marshal(Manifest{Model: model, Corpus: corpus})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestName), m, 0o644))
	}
}

// fixture writes four models on "CLINpt" (with predictions) and two on
// "SemClinBr" (one without predictions, one without a manifest).
func fixture(t *testing.T) (root string, dirs []string) {
	root = t.TempDir()
	gold := synthGold(150, 7)
	for i, m := range []struct {
		name string
		q    float64
		seed uint64
	}{{"good", 0.95, 11}, {"mid", 0.75, 12}, {"mid2", 0.75, 13}, {"bad", 0.5, 14}} {
		dir := filepath.Join(root, fmt.Sprintf("run%d", i))
		writeResult(t, dir, m.name, "CLINpt", gold, synthPred(gold, m.q, m.seed), true)
		dirs = append(dirs, dir)
	}
	gold2 := synthGold(60, 8)
	d := filepath.Join(root, "semclinbr-run")
	writeResult(t, d, "good", "SemClinBr", gold2, synthPred(gold2, 0.9, 21), false)
	dirs = append(dirs, d)
	d = filepath.Join(root, "SemClinBr", "mid")
	writeResult(t, d, "", "", gold2, synthPred(gold2, 0.7, 22), true)
	dirs = append(dirs, d)
	return root, dirs
}

func testOptions() Options {
	o := Options{Bootstrap: metrics.DefaultBootstrapOptions(), Alpha: 0.05, Adjust: metrics.Holm}
	o.Bootstrap.Samples = 200
	o.Bootstrap.Eval = metrics.Options{Scheme: metrics.IOB2, Mode: metrics.Conlleval}
	return o
}

func TestAnalyze(t *testing.T) {
	_, dirs := fixture(t)
	var rs []*Result
	for _, d := range dirs {
		r, err := loadResult(d)
		require.NoError(t, err)
		rs = append(rs, r)
	}
	assert.Equal(t, "mid", rs[5].Model, "model defaults to the directory name")
	assert.Equal(t, "SemClinBr", rs[5].Corpus, "corpus defaults to the parent's name")
	assert.Nil(t, rs[4].Gold, "no predictions file")

	a, err := analyze(rs, testOptions())
	require.NoError(t, err)
	require.Equal(t, []string{"CLINpt", "SemClinBr"}, a.Corpora)
	require.Equal(t, []string{"good", "mid", "mid2", "bad"}, a.Models)
	clin := a.Per[0]
	require.Equal(t, testTypes, clin.Types)
	require.NotNil(t, clin.Friedman, clin.FriedmanNote)
	assert.Less(t, clin.Friedman.PValue, 0.001)
	assert.Equal(t, 4, clin.Friedman.K)
	assert.Equal(t, 10, clin.Friedman.N)

	sig := map[string]bool{}
	for _, p := range clin.Pairs {
		sig[clin.Models[p.A].Model+">"+clin.Models[p.B].Model] = p.Sig
		assert.GreaterOrEqual(t, p.PAdj, p.P)
		require.NotNil(t, p.Boot)
	}
	assert.Equal(t, map[string]bool{"good>mid": true, "good>mid2": true, "good>bad": true,
		"mid>mid2": false, "mid>bad": true, "mid2>bad": true}, sig)
	assert.Equal(t, []string{"b", "c", "d"}, clin.betterThan(0, false))
	assert.Empty(t, clin.betterThan(3, false))

	for i := range clin.Models {
		m := clin.Micro[i]
		require.True(t, m.OK)
		assert.LessOrEqual(t, m.Lower, m.F1)
		assert.GreaterOrEqual(t, m.Upper, m.F1)
		for j := range clin.Types {
			c := clin.TypeCI[i][j]
			assert.True(t, c.OK)
			assert.LessOrEqual(t, c.Lower, c.F1+1e-12, "%s %s", clin.Models[i].Model, clin.Types[j])
			assert.GreaterOrEqual(t, c.Upper, c.F1-1e-12, "%s %s", clin.Models[i].Model, clin.Types[j])
		}
	}

	sem := a.Per[1]
	assert.Contains(t, sem.FriedmanNote, "at least 3 models")
	require.Len(t, sem.Pairs, 1)
	assert.Nil(t, sem.Pairs[0].Boot, "one side has no predictions")
	assert.False(t, sem.Micro[0].OK)
	assert.True(t, sem.Micro[1].OK)
}

// TestOnlyTypeMatchesPerType checks that filtering to one type and taking the
// micro F1 gives that type's F1 of the full report.
func TestOnlyTypeMatchesPerType(t *testing.T) {
	gold := synthGold(80, 3)
	pred := synthPred(gold, 0.6, 4)
	opts := metrics.Options{Scheme: metrics.IOB2, Mode: metrics.Conlleval}
	full, err := metrics.Evaluate(gold, pred, opts)
	require.NoError(t, err)
	for _, ty := range testTypes {
		r, err := metrics.Evaluate(onlyType(gold, ty), onlyType(pred, ty), opts)
		require.NoError(t, err)
		assert.InDelta(t, full.PerType[ty].F1, r.Micro.F1, 1e-12, ty)
	}
}

func TestRun(t *testing.T) {
	root, dirs := fixture(t)
	out := filepath.Join(root, "out")
	var stdout, stderr bytes.Buffer
	err := run(append([]string{"-out", out, "-bootstrap", "200"}, dirs...), &stdout, &stderr)
	require.NoError(t, err, stderr.String())
	s := stdout.String()
	for _, want := range []string{
		"## Table 2: micro F1 per model and corpus",
		"| Model | CLINpt | SemClinBr |",
		"## Table 3: F1 per entity type — CLINpt",
		"## Table 3: F1 per entity type — SemClinBr",
		"Friedman test over 4 models × 10 entity types",
		"Friedman test: not run (needs at least 3 models, have 2)",
		"| (a) good | (d) bad |",
		"![F1 per entity type — CLINpt](f1_clinpt.png)",
	} {
		assert.Contains(t, s, want)
	}
	assert.NotContains(t, stderr.String(), "warning")

	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	assert.Equal(t, s, string(md))
	for _, name := range []string{"f1_clinpt.png", "f1_semclinbr.png"} {
		f, err := os.Open(filepath.Join(out, name))
		require.NoError(t, err)
		img, err := png.Decode(f)
		f.Close()
		require.NoError(t, err, name)
		assert.Greater(t, img.Bounds().Dx(), 500)
		if os.Getenv("COMPARE_KEEP_PNG") != "" {
			b, _ := os.ReadFile(filepath.Join(out, name))
			os.WriteFile(filepath.Join(os.Getenv("COMPARE_KEEP_PNG"), name), b, 0o644)
		}
	}
}

func TestRunErrors(t *testing.T) {
	root, dirs := fixture(t)
	empty := filepath.Join(root, "empty")
	require.NoError(t, os.MkdirAll(empty, 0o755))
	bad := filepath.Join(root, "bad")
	require.NoError(t, os.MkdirAll(bad, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "test_report.json"), []byte(`{"overall":{}}`), 0o644))

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no dirs", nil, "no RESULT_DIR"},
		{"missing dir", []string{filepath.Join(root, "nope")}, "no such file"},
		{"no report", []string{empty}, "no test_report.json or report.json"},
		{"not the schema", []string{bad}, `no "per_type"`},
		{"duplicate", []string{dirs[0], dirs[0]}, `model "good" on corpus "CLINpt" twice`},
		{"bad adjust", []string{"-adjust", "sidak", dirs[0]}, "-adjust"},
		{"bad confidence", []string{"-confidence", "2", dirs[0]}, "-confidence 2: want < 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(append([]string{"-out", filepath.Join(root, "o")}, tc.args...), &stdout, &stderr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	testutil.Help(t, run, "-bootstrap", "(default 1000)")
}
