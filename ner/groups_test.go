package ner

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEvaluateGroups merges the predictions of three binary group models
// whose classifiers are fixed (one tags every word B-, two tag nothing)
// and checks the label-based counts against the annotations.
func TestEvaluateGroups(t *testing.T) {
	xml := semXML(t, semText, []semAnn{
		{"1", "dor torácica", 0, "Disorders|Sign or Symptom"}, // Sign or Symptom has no model: not counted
		{"2", "torácica", 0, "Anatomy"},
		{"3", "febre alta", 0, "Disorders"},
		{"5", "AAS", 0, "Chemicals and Drugs"},
	})
	c, err := ReadSemClinBr(writeFiles(t, map[string]string{"n.xml": xml}), SemClinBrOptions{})
	require.NoError(t, err)
	tok := demoTokenizer(t)
	model := func(group string, favour int) GroupModel {
		return GroupModel{Group: group, Dir: saveFreshModel(t, tok, tinyConfig(tok, 0), []string{"O", "B-" + group, "I-" + group}, favour)}
	}
	models := []GroupModel{model("Disorders", 1), model("Chemicals and Drugs", 0), model("Anatomy", 0)}
	ge, err := EvaluateGroups(c, models, TaggerOptions{MaxLen: 64})
	require.NoError(t, err)
	assert.Equal(t, []string{"Anatomy", "Chemicals and Drugs", "Disorders"}, ge.Groups)
	require.Len(t, ge.Words, 2)
	assert.Equal(t, []string{"B-Anatomy", "I-Disorders"}, ge.Gold[0][3]) // torácica
	assert.Equal(t, []string{"B-Chemicals and Drugs"}, ge.Gold[1][1])    // AAS
	assert.Equal(t, []string{"B-Disorders"}, ge.Pred[0][0])              // every word a Disorders entity
	assert.Equal(t, []string{"B-Disorders"}, ge.Pred[1][1])

	r := ge.MultiLabel
	assert.Equal(t, 12, r.Tokens)
	d := r.PerLabel["Disorders"] // 4 gold words, 12 predicted
	assert.Equal(t, [3]int{4, 12, 4}, [3]int{d.Support, d.Found, d.Correct})
	for _, g := range []string{"Anatomy", "Chemicals and Drugs"} {
		s := r.PerLabel[g]
		assert.Equal(t, [3]int{1, 0, 0}, [3]int{s.Support, s.Found, s.Correct}, g)
	}
	assert.NotContains(t, r.PerLabel, "Sign or Symptom")
	assert.InDelta(t, 4.0/12, r.Micro.Precision, 1e-12)
	assert.InDelta(t, 4.0/6, r.Micro.Recall, 1e-12)
	// Words whose label sets agree: the 5 unlabelled words outside
	// Disorders are wrong, "dor", "febre", "alta" right; "torácica" and
	// "AAS" miss a label.
	assert.InDelta(t, 3.0/12, r.SubsetAccuracy, 1e-12)
	// Entity level per group: two Disorders entities, twelve predicted
	// (one per word), none exact.
	assert.Equal(t, 2, ge.PerGroup["Disorders"].Report.Micro.Support)
	assert.Equal(t, 12, ge.PerGroup["Disorders"].Report.Micro.Found)

	out := t.TempDir()
	require.NoError(t, ge.WriteFiles(out, "test_"))
	txt, err := os.ReadFile(filepath.Join(out, "test_"+MultiLabelReportName))
	require.NoError(t, err)
	assert.Contains(t, string(txt), "Chemicals and Drugs")
	assert.Contains(t, string(txt), "micro avg")
	var js map[string]any
	b, err := os.ReadFile(filepath.Join(out, "test_"+MultiLabelReportJSONName))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &js))
	assert.Contains(t, js, "label_based")
	assert.Contains(t, js["entity_level_per_group"], "Chemicals and Drugs")
	var w bytes.Buffer
	require.NoError(t, ge.WriteText(&w, 2))
	assert.Contains(t, w.String(), "0.33") // micro precision with 2 digits

	_, err = EvaluateGroups(c, nil, TaggerOptions{})
	assert.ErrorContains(t, err, "no group models")
	_, err = EvaluateGroups(c, []GroupModel{models[0], models[0]}, TaggerOptions{MaxLen: 64})
	assert.ErrorContains(t, err, "twice")
}

func TestGroupFileName(t *testing.T) {
	for in, want := range map[string]string{
		"Disorders":           "Disorders",
		"Chemicals and Drugs": "Chemicals_and_Drugs",
		"Chemicals & Drugs":   "Chemicals_&_Drugs",
		"a/b":                 "a_b",
		"..":                  "_..",
		"Anatomia":            "Anatomia",
		"Órgão":               "Órgão",
	} {
		assert.Equal(t, want, GroupFileName(in), in)
	}
}
