package metrics_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	m "github.com/biobertpt-go/biobertpt/metrics"
)

func TestMultiLabel(t *testing.T) {
	gold := [][][]string{{{"Disorder", "Finding"}, {"O"}, {"Drug"}}, {{"Finding"}}}
	pred := [][][]string{{{"Disorder"}, {"Drug"}, {"Drug", "Drug"}}, {{"Finding", "Disorder"}}}
	r, err := m.MultiLabel(gold, pred, m.MultiLabelOptions{Ignore: []string{"O"}})
	require.NoError(t, err)
	// Disorder: TP 1, FP 1, FN 0; Finding: TP 1, FN 1; Drug: TP 1, FP 1.
	assert.Equal(t, []string{"Disorder", "Drug", "Finding"}, r.Labels)
	assert.Equal(t, m.Scores{Precision: 0.5, Recall: 1, F1: 2.0 / 3, Support: 1, Found: 2, Correct: 1}, r.PerLabel["Disorder"])
	assert.Equal(t, m.Scores{Precision: 1, Recall: 0.5, F1: 2.0 / 3, Support: 2, Found: 1, Correct: 1}, r.PerLabel["Finding"])
	assert.InDelta(t, 3.0/5, r.Micro.Precision, 1e-15) // ΣTP 3, ΣFP 2
	assert.InDelta(t, 3.0/4, r.Micro.Recall, 1e-15)    // ΣFN 1
	assert.InDelta(t, 2*0.6*0.75/1.35, r.Micro.F1, 1e-15)
	assert.InDelta(t, 2.0/3, r.Macro.F1, 1e-15)
	assert.Equal(t, 4, r.Tokens)
	assert.InDelta(t, 1.0/4, r.SubsetAccuracy, 1e-15) // only the Drug token matches exactly

	_, err = m.MultiLabel(gold, pred[:1], m.MultiLabelOptions{})
	assert.Error(t, err)
	_, err = m.MultiLabel([][][]string{{{"A"}}}, [][][]string{{}}, m.MultiLabelOptions{})
	assert.EqualError(t, err, "metrics: multi-label: sentence 0: 1 gold tokens, 0 predicted")
}

func randomSentences(r *rand.Rand, n int, noise float64) (gold, pred [][]string) {
	tags := []string{"O", "O", "O", "B-A", "I-A", "B-B", "I-B"}
	for i := 0; i < n; i++ {
		g := make([]string, 3+r.IntN(20))
		p := make([]string, len(g))
		for j := range g {
			g[j] = tags[r.IntN(len(tags))]
			p[j] = g[j]
			if r.Float64() < noise {
				p[j] = tags[r.IntN(len(tags))]
			}
		}
		gold, pred = append(gold, g), append(pred, p)
	}
	return gold, pred
}

func TestBootstrapCI(t *testing.T) {
	gold, pred := randomSentences(rand.New(rand.NewPCG(3, 3)), 300, 0.1)
	opts := m.DefaultBootstrapOptions()
	opts.Samples = 300
	a, err := m.BootstrapCI(gold, pred, opts)
	require.NoError(t, err)
	r, err := m.Evaluate(gold, pred, opts.Eval)
	require.NoError(t, err)
	assert.Equal(t, r.Micro.F1, a.F1)
	assert.Less(t, a.Lower, a.F1)
	assert.Greater(t, a.Upper, a.F1)
	assert.Less(t, a.Upper-a.Lower, 0.2)
	b, err := m.BootstrapCI(gold, pred, opts)
	require.NoError(t, err)
	assert.Equal(t, a, b, "same seed, same interval")
	opts.Seed = 7
	c, err := m.BootstrapCI(gold, pred, opts)
	require.NoError(t, err)
	assert.NotEqual(t, a.Lower, c.Lower)

	// Documents: 10 groups.
	opts.Groups = make([]int, len(gold))
	for i := range opts.Groups {
		opts.Groups[i] = i / 30
	}
	d, err := m.BootstrapCI(gold, pred, opts)
	require.NoError(t, err)
	assert.Equal(t, 10, d.Units)
	opts.Groups = opts.Groups[1:]
	_, err = m.BootstrapCI(gold, pred, opts)
	assert.Error(t, err)
	_, err = m.BootstrapCI(gold, pred, m.BootstrapOptions{})
	assert.Error(t, err)
}

func TestPairedBootstrap(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	gold, good := randomSentences(r, 300, 0.02)
	bad := make([][]string, len(gold))
	for i, g := range gold {
		bad[i] = append([]string(nil), g...)
		for j := range bad[i] {
			if r.Float64() < 0.3 {
				bad[i][j] = "O"
			}
		}
	}
	opts := m.DefaultBootstrapOptions()
	opts.Samples = 300
	res, err := m.PairedBootstrap(gold, good, bad, opts)
	require.NoError(t, err)
	assert.Greater(t, res.Delta, 0.1)
	assert.Less(t, res.PValue, 0.01)
	assert.Greater(t, res.WinRate, 0.99)
	assert.Greater(t, res.Lower, 0.0)
	same, err := m.PairedBootstrap(gold, good, good, opts)
	require.NoError(t, err)
	assert.Equal(t, 0.0, same.Delta)
	assert.Equal(t, 1.0, same.PValue)
}

func FuzzEntities(f *testing.F) {
	f.Add("B-PER I-PER O S-LOC E-X [-NP ]-NP .-A I- - B", 0, 0)
	f.Add("U-A L-A B-A I-A L-A", 5, 2)
	f.Fuzz(func(t *testing.T, s string, scheme, mode int) {
		tags := strings.Fields(s)
		sc, md := m.Scheme(((scheme%7)+7)%7), m.Mode(((mode%3)+3)%3)
		for _, e := range m.Entities(tags, sc, md) {
			if e.Start < 0 || e.End > len(tags) || e.Start >= e.End {
				t.Fatalf("bad entity %v for %q", e, tags)
			}
		}
		r, err := m.Evaluate([][]string{tags}, [][]string{tags}, m.Options{Scheme: sc, Mode: md})
		// conlleval.pl itself does not score ill-formed tags perfectly against
		// themselves (see TestConllevalIllFormedTags), so only seqeval's set
		// comparison must be perfect.
		if err == nil && md != m.Conlleval && (r.Micro.Correct != r.Micro.Found || r.Micro.Found != r.Micro.Support) {
			t.Fatalf("self-evaluation not perfect: %+v for %q", r.Micro, tags)
		}
	})
}

func FuzzReadConll(f *testing.F) {
	f.Add("a B-PER B-PER\nb I-PER O\n\n-DOCSTART- O O\n", false)
	f.Add("a X Y\n-X- O O\nb O X\n", true)
	f.Fuzz(func(t *testing.T, in string, raw bool) {
		c, err := m.ReadConll(strings.NewReader(in), "fuzz", m.ConllOptions{Raw: raw})
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := m.WriteConlleval(&b, c); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Evaluate(c.Gold(), c.Pred(), m.Options{Mode: m.Lenient}); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkEvaluate1M evaluates one million tokens (50,000 sentences of 20).
func BenchmarkEvaluate1M(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	tags := []string{"O", "O", "O", "B-A", "I-A", "B-B", "I-B", "B-C"}
	gold, pred := make([][]string, 50000), make([][]string, 50000)
	for i := range gold {
		gold[i], pred[i] = make([]string, 20), make([]string, 20)
		for j := range gold[i] {
			gold[i][j] = tags[r.IntN(len(tags))]
			pred[i][j] = gold[i][j]
			if r.IntN(10) == 0 {
				pred[i][j] = tags[r.IntN(len(tags))]
			}
		}
	}
	for _, mode := range []m.Mode{m.Conlleval, m.Lenient, m.Strict} {
		b.Run(mode.String(), func(b *testing.B) {
			for b.Loop() {
				if _, err := m.Evaluate(gold, pred, m.Options{Mode: mode}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func ExampleEntities() {
	ents := m.Entities([]string{"B-PER", "I-PER", "O", "B-LOC"}, m.IOB2, m.Conlleval)
	fmt.Println(ents)
	fmt.Println(m.Entities([]string{"I-ORG", "I-ORG"}, m.IOB2, m.Strict))
	// Output:
	// [PER[0:2] LOC[3:4]]
	// []
}

func ExampleEvaluate() {
	gold := [][]string{{"B-PER", "I-PER", "O", "B-LOC"}}
	pred := [][]string{{"B-PER", "I-PER", "O", "B-ORG"}}
	r, _ := m.Evaluate(gold, pred, m.Options{})
	fmt.Printf("P=%.2f R=%.2f F1=%.2f acc=%.2f\n", r.Micro.Precision, r.Micro.Recall, r.Micro.F1, r.Accuracy)
	// Output: P=0.50 R=0.50 F1=0.50 acc=0.75
}

func ExampleWriteConlleval() {
	in := "Paciente O O\ncom O O\ndor B-SINAL B-SINAL\ntorácica I-SINAL O\n"
	c, _ := m.ReadConll(strings.NewReader(in), "example", m.ConllOptions{})
	_ = m.WriteConlleval(os.Stdout, c)
	// Output:
	// processed 4 tokens with 1 phrases; found: 1 phrases; correct: 0.
	// accuracy:  75.00%; precision:   0.00%; recall:   0.00%; FB1:   0.00
	//             SINAL: precision:   0.00%; recall:   0.00%; FB1:   0.00  1
}

func ExampleFriedman() {
	// Three models' F1 on five folds.
	r, _ := m.Friedman([][]float64{
		{0.81, 0.75, 0.92, 0.66, 0.70},
		{0.79, 0.77, 0.90, 0.61, 0.72},
		{0.85, 0.80, 0.93, 0.69, 0.74},
	})
	fmt.Printf("chi2=%.2f p=%.4f ranks=%v\n", r.Statistic, r.PValue, r.MeanRanks)
	// Output: chi2=7.60 p=0.0224 ranks=[1.6 1.4 3]
}
