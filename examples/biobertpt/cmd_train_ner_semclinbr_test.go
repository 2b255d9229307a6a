package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/ner"
)

// semClinBrCorpus writes n SemClinBr-style notes (XML, character offsets)
// with three groups, one named with spaces ("Chemicals and Drugs"), a
// multi-label annotation ("Disorders|Procedures") and overlapping
// annotations (a Disorders span containing a Chemicals and Drugs span).
func semClinBrCorpus(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	type ann struct{ sub, tag string }
	notes := []struct {
		text string
		anns []ann
	}{
		{"Paciente com dor torácica e febre. Iniciado dipirona.", []ann{{"dor torácica", "Disorders"}, {"febre", "Disorders"}, {"dipirona", "Chemicals and Drugs"}}},
		{"Realizada radiografia de tórax. Nega tosse.", []ann{{"radiografia de tórax", "Procedures"}, {"tosse", "Disorders"}}},
		{"Alergia a dipirona. Em uso de omeprazol.", []ann{{"Alergia a dipirona", "Disorders"}, {"dipirona", "Chemicals and Drugs"}, {"omeprazol", "Chemicals and Drugs"}}},
		{"Submetido a biópsia. Refere febre e tosse.", []ann{{"biópsia", "Disorders|Procedures"}, {"febre", "Disorders"}, {"tosse", "Disorders"}}},
	}
	for i := 0; i < n; i++ {
		note := notes[i%len(notes)]
		var b strings.Builder
		fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ANNOTATIONS>\n<TEXT><![CDATA[%s]]></TEXT>\n<TAGS>\n", note.text)
		for k, a := range note.anns {
			at := strings.Index(note.text, a.sub)
			require.GreaterOrEqual(t, at, 0)
			s := utf8.RuneCountInString(note.text[:at])
			fmt.Fprintf(&b, "<annotation id=\"T%d\" start=\"%d\" end=\"%d\" text=\"%s\" tag=\"%s\"/>\n", k+1, s, s+utf8.RuneCountInString(a.sub), a.sub, a.tag)
		}
		b.WriteString("</TAGS>\n</ANNOTATIONS>\n")
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("note%02d.xml", i)), []byte(b.String()), 0o644))
	}
	return dir
}

// TestTrainNERSemClinBrAllGroups trains one binary model per group
// (-group all), then checks the merged, label-based test evaluation: the
// files, the printed summary, that the gold supports equal the annotated
// words of the test split, and that models which learnt their group
// (the four note texts repeat, so test notes were seen in training)
// together recover the words' label sets, two-label words included.
func TestTrainNERSemClinBrAllGroups(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	data := semClinBrCorpus(t, 20)
	model := nerTinyModel(t, 0)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runNERCmd("", "train-ner", "-corpus", "semclinbr", "-data", data, "-model", model, "-out", out,
		"-group", "all", "-epochs", "10", "-batch", "4", "-lr", "5e-3", "-max-len", "64", "-stride", "16", "-quiet")
	require.Equal(t, 0, code, stderr)
	groups := []string{"Chemicals and Drugs", "Disorders", "Procedures"}
	for _, g := range groups {
		assert.Contains(t, stderr, "group "+g)
		d := filepath.Join(out, ner.GroupFileName(g))
		for _, f := range []string{"best/config.json", ner.TestReportName, ner.TestReportJSONName} {
			assert.FileExists(t, filepath.Join(d, f))
		}
	}
	assert.DirExists(t, filepath.Join(out, "Chemicals_and_Drugs"))
	assert.Contains(t, stdout, "group models merged")
	assert.Contains(t, stdout, "label-based")
	assert.Contains(t, stdout, "micro avg")
	txt, err := os.ReadFile(filepath.Join(out, "test_"+ner.MultiLabelReportName))
	require.NoError(t, err)
	assert.Contains(t, stdout, string(txt))
	t.Logf("%s", txt)

	var js struct {
		Groups     []string `json:"groups"`
		LabelBased struct {
			Tokens   int
			PerLabel map[string]struct{ Support, Found, Correct int }
			Micro    struct{ Precision, Recall, F1 float64 }
		} `json:"label_based"`
		PerGroup map[string]json.RawMessage `json:"entity_level_per_group"`
	}
	b, err := os.ReadFile(filepath.Join(out, "test_"+ner.MultiLabelReportJSONName))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &js))
	assert.Equal(t, groups, js.Groups)
	assert.Len(t, js.PerGroup, 3)

	// Gold supports: the annotated words of the test split, per group,
	// counted from the corpus as train-ner splits it.
	c, err := ner.ReadSemClinBr(data, ner.SemClinBrOptions{})
	require.NoError(t, err)
	sp, err := ner.SplitDocuments(c, 0.6, 0.2, 42)
	require.NoError(t, err)
	want, words, multi := map[string]int{}, 0, 0
	for _, d := range sp.Test.Documents {
		for _, s := range d.Sentences {
			words += len(s.Words)
			for _, set := range s.Labels {
				if len(set) > 1 {
					multi++
				}
				for _, l := range set {
					want[l[2:]]++
				}
			}
		}
	}
	require.NotZero(t, want["Disorders"])
	require.NotZero(t, multi, "the test split has words with two labels")
	assert.Equal(t, words, js.LabelBased.Tokens)
	for _, g := range groups {
		assert.Equal(t, want[g], js.LabelBased.PerLabel[g].Support, g)
	}
	// The test notes repeat the training notes' texts: the merged
	// predictions must recover the multi-label sets.
	assert.Greater(t, js.LabelBased.Micro.F1, 0.9)
	t.Logf("merged test micro P %.3f R %.3f F1 %.3f", js.LabelBased.Micro.Precision, js.LabelBased.Micro.Recall, js.LabelBased.Micro.F1)
}
