package metrics_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	m "github.com/biobertpt-go/biobertpt/metrics"
)

func ents(spec ...any) []m.Entity {
	var out []m.Entity
	for i := 0; i < len(spec); i += 3 {
		out = append(out, m.Entity{Type: spec[i].(string), Start: spec[i+1].(int), End: spec[i+2].(int)})
	}
	return out
}

func TestEntities(t *testing.T) {
	cases := []struct {
		name   string
		tags   []string
		scheme m.Scheme
		mode   m.Mode
		want   []m.Entity
	}{
		// seqeval get_entities docstring: [('PER', 0, 1), ('LOC', 3, 3)] (inclusive ends).
		{"seqeval docstring", []string{"B-PER", "I-PER", "O", "B-LOC"}, m.IOB2, m.Lenient, ents("PER", 0, 2, "LOC", 3, 4)},
		{"conlleval docstring", []string{"B-PER", "I-PER", "O", "B-LOC"}, m.IOB2, m.Conlleval, ents("PER", 0, 2, "LOC", 3, 4)},
		// seqeval Tokens.entities docstring (strict IOB2): [('PER', 0, 2), ('LOC', 3, 4)].
		{"strict docstring", []string{"B-PER", "I-PER", "O", "B-LOC"}, m.IOB2, m.Strict, ents("PER", 0, 2, "LOC", 3, 4)},
		{"I- start lenient", []string{"I-ORG", "I-ORG", "O"}, m.IOB2, m.Lenient, ents("ORG", 0, 2)},
		{"I- start conlleval", []string{"I-ORG", "I-ORG", "O"}, m.IOB2, m.Conlleval, ents("ORG", 0, 2)},
		{"I- start strict", []string{"I-ORG", "I-ORG", "O"}, m.IOB2, m.Strict, nil},
		{"type change", []string{"B-PER", "I-LOC", "I-LOC"}, m.IOB2, m.Conlleval, ents("PER", 0, 1, "LOC", 1, 3)},
		{"type change strict", []string{"B-PER", "I-ORG"}, m.IOB2, m.Strict, ents("PER", 0, 1)},
		{"S S conlleval merges", []string{"S-LOC", "S-LOC"}, m.IOBES, m.Conlleval, ents("LOC", 0, 2)},
		{"S S lenient splits", []string{"S-LOC", "S-LOC"}, m.IOBES, m.Lenient, ents("LOC", 0, 1, "LOC", 1, 2)},
		{"E B conlleval merges", []string{"B-X", "E-X", "B-X", "E-X"}, m.IOBES, m.Conlleval, ents("X", 0, 4)},
		{"E B lenient", []string{"B-X", "E-X", "B-X", "E-X"}, m.IOBES, m.Lenient, ents("X", 0, 2, "X", 2, 4)},
		{"iobes strict", []string{"B-PER", "E-PER", "S-LOC", "B-ORG", "I-ORG"}, m.IOBES, m.Strict, ents("PER", 0, 2, "LOC", 2, 3)},
		{"iobes strict lone B", []string{"B-PER"}, m.IOBES, m.Strict, nil},
		{"ioe2 strict", []string{"I-PER", "E-PER", "E-LOC", "I-ORG"}, m.IOE2, m.Strict, ents("PER", 0, 2, "LOC", 2, 3)},
		{"ioe2 conlleval", []string{"I-PER", "E-PER", "E-PER"}, m.IOE2, m.Conlleval, ents("PER", 0, 2, "PER", 2, 3)},
		{"iob1 strict", []string{"I-PER", "I-PER", "B-PER", "O"}, m.IOB1, m.Strict, ents("PER", 0, 2, "PER", 2, 3)},
		{"iob1 conlleval", []string{"I-PER", "I-PER", "B-PER", "O"}, m.IOB1, m.Conlleval, ents("PER", 0, 2, "PER", 2, 3)},
		{"ioe1 strict", []string{"I-PER", "E-PER", "I-PER"}, m.IOE1, m.Strict, ents("PER", 0, 2, "PER", 2, 3)},
		{"bilou strict", []string{"B-PER", "I-PER", "L-PER", "U-LOC", "B-X"}, m.BILOU, m.Strict, ents("PER", 0, 3, "LOC", 3, 4)},
		{"bilou lenient", []string{"U-LOC", "U-LOC", "B-PER", "L-PER"}, m.BILOU, m.Lenient, ents("LOC", 0, 1, "LOC", 1, 2, "PER", 2, 4)},
		{"strict disallowed prefix read as O", []string{"B-PER", "S-PER"}, m.IOB2, m.Strict, ents("PER", 0, 1)},
		{"brackets conlleval", []string{"[-NP", "]-NP", "O"}, m.IOB2, m.Conlleval, ents("NP", 0, 1, "NP", 1, 2)},
		{"empty", nil, m.IOB2, m.Conlleval, nil},
		{"all O", []string{"O", "O"}, m.IOB2, m.Lenient, nil},
		{"empty tag", []string{"", "B-A"}, m.IOB2, m.Strict, ents("A", 1, 2)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, m.Entities(tc.tags, tc.scheme, tc.mode))
		})
	}
}

// On B/I/O tags conlleval.pl's rules and seqeval's default mode agree.
func TestConllevalEqualsLenientOnIOB(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tags := []string{"O", "B-A", "I-A", "B-B", "I-B"}
	for i := 0; i < 2000; i++ {
		seq := make([]string, r.IntN(15))
		for j := range seq {
			seq[j] = tags[r.IntN(len(tags))]
		}
		require.Equal(t, m.Entities(seq, m.IOB2, m.Lenient), m.Entities(seq, m.IOB2, m.Conlleval), "%v", seq)
	}
}

// seqeval's README example (also the classification_report docstring).
var readmeTrue = [][]string{{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}}
var readmePred = [][]string{{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}}

func TestEvaluateSeqevalExample(t *testing.T) {
	for _, mode := range []m.Mode{m.Conlleval, m.Lenient, m.Strict} {
		r, err := m.Evaluate(readmeTrue, readmePred, m.Options{Mode: mode})
		require.NoError(t, err)
		// f1_score, precision_score, recall_score: 0.50; accuracy_score: 0.80.
		assert.InDelta(t, 0.5, r.Micro.F1, 1e-12)
		assert.InDelta(t, 0.5, r.Micro.Precision, 1e-12)
		assert.InDelta(t, 0.5, r.Micro.Recall, 1e-12)
		assert.InDelta(t, 0.8, r.Accuracy, 1e-12)
		assert.Equal(t, []string{"MISC", "PER"}, r.Types)
		var b bytes.Buffer
		require.NoError(t, r.WriteText(&b, 2))
		// classification_report docstring, seqeval v1.2.
		assert.Equal(t, ""+
			"              precision    recall  f1-score   support\n"+
			"\n"+
			"        MISC       0.00      0.00      0.00         1\n"+
			"         PER       1.00      1.00      1.00         1\n"+
			"\n"+
			"   micro avg       0.50      0.50      0.50         2\n"+
			"   macro avg       0.50      0.50      0.50         2\n"+
			"weighted avg       0.50      0.50      0.50         2\n", b.String())
	}
}

// seqeval README, "strict mode": NP is found by the default mode, not by the
// strict one with IOB2.
func TestEvaluateStrictReadme(t *testing.T) {
	gold := [][]string{{"B-NP", "I-NP", "O"}}
	pred := [][]string{{"I-NP", "I-NP", "O"}}
	def, err := m.Evaluate(gold, pred, m.Options{Mode: m.Lenient})
	require.NoError(t, err)
	assert.Equal(t, m.Scores{Precision: 1, Recall: 1, F1: 1, Support: 1, Found: 1, Correct: 1}, def.PerType["NP"])
	strict, err := m.Evaluate(gold, pred, m.Options{Mode: m.Strict, Scheme: m.IOB2})
	require.NoError(t, err)
	assert.Equal(t, m.Scores{Support: 1}, strict.PerType["NP"])
	var b bytes.Buffer
	require.NoError(t, strict.WriteText(&b, 2))
	assert.Equal(t, ""+
		"              precision    recall  f1-score   support\n\n"+
		"          NP       0.00      0.00      0.00         1\n\n"+
		"   micro avg       0.00      0.00      0.00         1\n"+
		"   macro avg       0.00      0.00      0.00         1\n"+
		"weighted avg       0.00      0.00      0.00         1\n", b.String())
}

func TestEvaluateAverages(t *testing.T) {
	gold := [][]string{{"B-A", "O", "B-A", "B-B", "I-B", "O"}, {"B-A"}}
	pred := [][]string{{"B-A", "O", "O", "B-B", "O", "B-C"}, {"B-A"}}
	r, err := m.Evaluate(gold, pred, m.Options{Mode: m.Lenient})
	require.NoError(t, err)
	// A: 3 gold, 2 pred, 2 correct; B: 1 gold ([3:5]), 1 pred ([3:4]), 0; C: 0 gold, 1 pred.
	assert.Equal(t, m.Scores{Precision: 1, Recall: 2.0 / 3, F1: 0.8, Support: 3, Found: 2, Correct: 2}, r.PerType["A"])
	assert.Equal(t, m.Scores{Support: 1, Found: 1}, r.PerType["B"])
	assert.Equal(t, m.Scores{Found: 1}, r.PerType["C"])
	assert.InDelta(t, 0.5, r.Micro.Precision, 1e-15)
	assert.InDelta(t, 0.5, r.Micro.Recall, 1e-15)
	assert.InDelta(t, (1.0)/3, r.Macro.Precision, 1e-15)
	assert.InDelta(t, (2.0/3)/3, r.Macro.Recall, 1e-15)
	assert.InDelta(t, 0.8/3, r.Macro.F1, 1e-15)
	assert.InDelta(t, 3.0/4, r.Weighted.Precision, 1e-15)
	assert.InDelta(t, 0.5, r.Weighted.Recall, 1e-15)
	assert.InDelta(t, 0.6, r.Weighted.F1, 1e-15)
	assert.Equal(t, 4, r.FoundGold())
	assert.Equal(t, 4, r.FoundPred())
	assert.Equal(t, 2, r.Correct())
	assert.InDelta(t, 4.0/7, r.Accuracy, 1e-15)

	// zero_division=1: C has no gold chunks, so its recall is 1.
	r1, err := m.Evaluate(gold, pred, m.Options{Mode: m.Lenient, ZeroDivision: 1})
	require.NoError(t, err)
	assert.Equal(t, 1.0, r1.PerType["C"].Recall)
	assert.Equal(t, 0.0, r1.PerType["C"].F1)
}

func TestEvaluateZeroDivision(t *testing.T) {
	gold := [][]string{{"O", "O"}}
	for _, zd := range []float64{0, 1} {
		r, err := m.Evaluate(gold, gold, m.Options{ZeroDivision: zd})
		require.NoError(t, err)
		assert.Equal(t, zd, r.Micro.Precision)
		assert.Equal(t, zd, r.Micro.Recall)
		assert.Equal(t, zd, r.Weighted.F1)
		assert.Equal(t, 1.0, r.Accuracy)
	}
	r, err := m.Evaluate(gold, [][]string{{"B-X", "O"}}, m.Options{ZeroDivision: 1})
	require.NoError(t, err)
	assert.Equal(t, 0.0, r.Micro.Precision)
	assert.Equal(t, 1.0, r.Micro.Recall) // no gold chunks
	assert.Equal(t, 0.0, r.Weighted.Precision)
	assert.Equal(t, 1.0, r.Weighted.Recall)
}

func TestEvaluateErrors(t *testing.T) {
	_, err := m.Evaluate([][]string{{"O"}, {"O", "O"}}, [][]string{{"O"}, {"O"}}, m.Options{})
	assert.EqualError(t, err, "metrics: evaluate: sentence 1: 2 gold tags, 1 predicted")
	_, err = m.Evaluate([][]string{{"O"}}, nil, m.Options{})
	assert.EqualError(t, err, "metrics: evaluate: 1 gold sentences, 0 predicted")
	_, err = m.Evaluate([][]string{{"O", "S-X"}}, [][]string{{"O", "O"}}, m.Options{Mode: m.Strict, Scheme: m.IOB2})
	assert.EqualError(t, err, `metrics: evaluate: sentence 0 token 1: gold tag "S-X" not allowed by IOB2`)
	_, err = m.Evaluate(nil, nil, m.Options{ZeroDivision: 0.5})
	assert.Error(t, err)
	_, err = m.Evaluate(nil, nil, m.Options{Mode: 7})
	assert.Error(t, err)
}

func TestReportJSON(t *testing.T) {
	r, err := m.Evaluate(readmeTrue, readmePred, m.Options{})
	require.NoError(t, err)
	b, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"overall":{"precision":0.5,"recall":0.5,"f1":0.5,"accuracy":0.8,"found_gold":2,"found_pred":2,"correct":1},
		"per_type":{"MISC":{"precision":0,"recall":0,"f1":0,"support":1},"PER":{"precision":1,"recall":1,"f1":1,"support":1}}}`, string(b))
}

func TestParse(t *testing.T) {
	s, err := m.ParseScheme("iobes")
	require.NoError(t, err)
	assert.Equal(t, m.IOBES, s)
	assert.Equal(t, "IOBES", s.String())
	s, err = m.ParseScheme("bio")
	require.NoError(t, err)
	assert.Equal(t, m.IOB2, s)
	_, err = m.ParseScheme("bmewo")
	assert.Error(t, err)
	md, err := m.ParseMode("default")
	require.NoError(t, err)
	assert.Equal(t, m.Lenient, md)
	_, err = m.ParseMode("x")
	assert.Error(t, err)
}

func TestStrictIO(t *testing.T) {
	tags := []string{"I-PER", "I-PER", "I-LOC", "O", "I-PER", "B-PER"}
	assert.Equal(t, []m.Entity{{"PER", 0, 2}, {"LOC", 2, 3}, {"PER", 4, 5}}, m.Entities(tags, m.IO, m.Strict))
	_, err := m.Evaluate([][]string{tags}, [][]string{tags}, m.Options{Scheme: m.IO, Mode: m.Strict})
	assert.ErrorContains(t, err, "B-PER")
}
