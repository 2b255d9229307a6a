package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/metrics"
	"github.com/biobertpt-go/biobertpt/ner"
)

func xmlEscape(t *testing.T, s string) string {
	var b strings.Builder
	require.NoError(t, xml.EscapeText(&b, []byte(s)))
	return b.String()
}

// semclinbrXML writes n notes in SemClinBr's XML format built from the demo
// corpus: conditions (C) become "Disorders", every other one also "Sign or
// Symptom" (multi-label), and therapeutics (THER) "Chemicals and Drugs".
func semclinbrXML(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "semclinbr")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	cond := 0
	for k, d := range testutil.NERDocs(t, n) {
		var text []rune
		type ann struct {
			start, end int
			typ        string
		}
		var anns []ann
		for _, cols := range d.Rows {
			tok, tag := cols[0], cols[3]
			if len(text) > 0 && text[len(text)-1] != '\n' {
				text = append(text, ' ')
			}
			start := len(text)
			text = append(text, []rune(tok)...)
			switch {
			case strings.HasPrefix(tag, "B-"):
				anns = append(anns, ann{start, len(text), tag[2:]})
			case strings.HasPrefix(tag, "I-") && len(anns) > 0:
				anns[len(anns)-1].end = len(text)
			}
			if tok == "." {
				text = append(text, '\n')
			}
		}
		var x strings.Builder
		fmt.Fprintf(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ANNOTATIONS><TEXT>%s</TEXT><TAGS>\n", xmlEscape(t, string(text)))
		id := 0
		for _, a := range anns {
			var tag string
			switch a.typ {
			case "C":
				tag = "Disorders"
				if cond++; cond%2 == 0 {
					tag += "|Sign or Symptom"
				}
			case "THER":
				tag = "Chemicals and Drugs"
			default:
				continue
			}
			id++
			fmt.Fprintf(&x, "<annotation id=\"%d\" start=\"%d\" end=\"%d\" text=\"%s\" tag=\"%s\"/>\n",
				id, a.start, a.end, xmlEscape(t, string(text[a.start:a.end])), tag)
		}
		x.WriteString("</TAGS></ANNOTATIONS>\n")
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("note%02d.xml", k+1)), []byte(x.String()), 0o644))
	}
	return dir
}

func TestRunTiny(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if testing.Short() {
		t.Skip("trains tiny models")
	}
	model := testutil.TinyModelDir(t, bert.HeadBase, nil, nil)
	data := semclinbrXML(t, 10)
	c, err := ner.ReadSemClinBr(data, ner.SemClinBrOptions{})
	require.NoError(t, err)
	require.Len(t, c.Documents, 10)

	out := filepath.Join(t.TempDir(), "SemClinBr", "tiny")
	var stdout, stderr bytes.Buffer
	args := []string{"-data", data, "-model", model, "-out", out, "-epochs", "1", "-batch", "8", "-lr", "1e-3", "-max-len", "64",
		"-groups", "Disorders, Chemicals and Drugs"}
	require.NoError(t, run(args, &stdout, &stderr), stderr.String())
	s := stdout.String()
	assert.Contains(t, s, "SemClinBr: 10 notes; train 6 / dev 2 / test 2 notes")
	assert.Contains(t, s, "2 groups, one binary model each: Disorders, Chemicals and Drugs")
	assert.Contains(t, s, "[1/2] Disorders")
	assert.Contains(t, s, "[2/2] Chemicals and Drugs")
	assert.Contains(t, s, "label-based scores")
	assert.Contains(t, s, "micro avg")

	for _, f := range []string{"groups/disorders/best/model.safetensors", "groups/chemicals-and-drugs/test_report.json",
		"test_report.txt", "test_report.json", "test_entities.txt", "test_predictions.tsv", "split/test.txt"} {
		assert.FileExists(t, filepath.Join(out, f))
	}
	var man Manifest
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &man))
	assert.Equal(t, "tiny-bert", man.Model)
	assert.Equal(t, "SemClinBr", man.Corpus)
	assert.Equal(t, []string{"Disorders", "Chemicals and Drugs"}, man.Groups)

	// test_report.json holds the label-based scores of the merged label
	// sets in test_predictions.tsv, recomputed here.
	var gold, pred [][][]string
	var gs, ps [][]string
	b, err = os.ReadFile(filepath.Join(out, "test_predictions.tsv"))
	require.NoError(t, err)
	split := func(x string) []string {
		if x == "O" {
			return nil
		}
		return strings.Split(x, "|")
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if line == "" {
			if gs != nil {
				gold, pred, gs, ps = append(gold, gs), append(pred, ps), nil, nil
			}
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, 3, line)
		gs, ps = append(gs, split(f[1])), append(ps, split(f[2]))
	}
	ml, err := metrics.MultiLabel(gold, pred, metrics.MultiLabelOptions{})
	require.NoError(t, err)
	var rep struct {
		Overall struct {
			F1        float64 `json:"f1"`
			Precision float64 `json:"precision"`
			FoundGold int     `json:"found_gold"`
		} `json:"overall"`
		PerType map[string]struct {
			F1      float64 `json:"f1"`
			Support int     `json:"support"`
		} `json:"per_type"`
	}
	b, err = os.ReadFile(filepath.Join(out, "test_report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &rep))
	assert.InDelta(t, ml.Micro.F1, rep.Overall.F1, 1e-12)
	assert.InDelta(t, ml.Micro.Precision, rep.Overall.Precision, 1e-12)
	assert.Equal(t, ml.Micro.Support, rep.Overall.FoundGold)
	assert.Greater(t, rep.PerType["Disorders"].Support, 0)
	assert.Greater(t, rep.PerType["Chemicals and Drugs"].Support, 0)
	assert.NotContains(t, rep.PerType, "Sign or Symptom", "not trained, not scored")
}

func TestChooseGroups(t *testing.T) {
	train := map[string]int{"Disorders": 5, "Chemicals and Drugs": 2, "Empty": 0}
	g, err := chooseGroups("", train)
	require.NoError(t, err)
	assert.Equal(t, []string{"Chemicals and Drugs", "Disorders"}, g)
	g, err = chooseGroups("Disorders, Disorders", train)
	require.NoError(t, err)
	assert.Equal(t, []string{"Disorders"}, g)
	_, err = chooseGroups("Procedures", train)
	assert.ErrorContains(t, err, `"Procedures" has no entities in the training split`)
	_, err = chooseGroups("", map[string]int{})
	assert.ErrorContains(t, err, "no entities")
	assert.Equal(t, "chemicals-and-drugs", slug("Chemicals and Drugs"))
}

func TestRunErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no data", []string{"-out", "x"}, "-data is required"},
		{"no out", []string{"-data", "x"}, "-out is required"},
		{"epochs", []string{"-data", "x", "-out", "y", "-epochs", "0"}, "-epochs 0: want >= 1"},
		{"device", []string{"-data", "x", "-out", "y", "-device", "gpu"}, "-device"},
	} {
		t.Run(tc.name, func(t *testing.T) { testutil.UsageError(t, run, tc.args, tc.want) })
	}
	testutil.Help(t, run, "-groups", "-model", "(default 10)", "(default 3e-05)")
}
