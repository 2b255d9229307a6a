package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/ner"
)

// runPredictCmd runs predict with args and stdin; it returns stdout and
// stderr and requires exit status code.
func runPredictCmd(t *testing.T, stdin string, code int, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	got := run(&env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, append([]string{"predict"}, args...))
	require.Equal(t, code, got, "stderr: %s", errb.String())
	return out.String(), errb.String()
}

// demoLines returns n lines of the demo notes (blank lines included).
func demoLines(n int) []string {
	var out []string
	for _, l := range testutil.ClinicalLines()[:n] {
		out = append(out, strings.TrimSuffix(l, "\n"))
	}
	return out
}

func sameEntities(t *testing.T, want, got []ner.Entity, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		assert.Equal(t, want[i].Type, got[i].Type, msg)
		assert.Equal(t, want[i].Text, got[i].Text, msg)
		assert.Equal(t, want[i].Start, got[i].Start, msg)
		assert.Equal(t, want[i].End, got[i].End, msg)
		assert.InDelta(t, want[i].Score, got[i].Score, 1e-5, msg)
	}
}

// TestPredictBatchMatchesLinePath: batch mode's json output is the
// line-at-a-time path's (entities equal, scores within float rounding of
// a differently padded batch), and its conll tags are the same.
func TestPredictBatchMatchesLinePath(t *testing.T) {
	dir := nerModelDir(t)
	lines := demoLines(120)
	lines = append(lines, "Dor torácica há 2 dias; nega febre 🙂.", "", "  ")
	stdin := strings.Join(lines, "\n") + "\n"

	old, _ := runPredictCmd(t, stdin, 0, "-model", dir)
	batch, stderr := runPredictCmd(t, stdin, 0, "-model", dir, "-input", "-", "-max-batch-tokens", "300")
	assert.Contains(t, stderr, "documents")
	assert.Contains(t, stderr, "tok/s")
	oldLines := strings.Split(strings.TrimSuffix(old, "\n"), "\n")
	newLines := strings.Split(strings.TrimSuffix(batch, "\n"), "\n")
	require.Len(t, oldLines, len(lines))
	require.Len(t, newLines, len(lines))
	total := 0
	for i := range lines {
		var a, b []ner.Entity
		require.NoError(t, json.Unmarshal([]byte(oldLines[i]), &a))
		require.NoError(t, json.Unmarshal([]byte(newLines[i]), &b))
		sameEntities(t, a, b, lines[i])
		total += len(a)
	}
	assert.Greater(t, total, 100)

	oldConll, _ := runPredictCmd(t, stdin, 0, "-model", dir, "-format", "conll")
	newConll, _ := runPredictCmd(t, stdin, 0, "-model", dir, "-format", "conll", "-input", "-", "-max-batch-tokens", "300")
	assert.Equal(t, conllSentences(oldConll), conllSentences(newConll))
	assert.Greater(t, len(conllSentences(oldConll)), 100)
	assert.Contains(t, newConll, "-DOCSTART-\tstdin:2\n\n")
}

func TestPredictBatchFormats(t *testing.T) {
	dir := nerModelDir(t)
	tg, err := ner.Load(dir, ner.TaggerOptions{})
	require.NoError(t, err)
	defer tg.Close()

	in := t.TempDir()
	notes := filepath.Join(in, "notes")
	require.NoError(t, os.MkdirAll(filepath.Join(notes, "ward"), 0o755))
	a := testutil.WriteFile(t, notes, "a.txt", "Paciente com dor torácica.\r\n\r\nNega febre e tosse há 3 dias.\n")
	b := testutil.WriteFile(t, filepath.Join(notes, "ward"), "b.txt", "Evolução: melhora clínica após ceftriaxona.\nÚlcera gástrica 🙂 sem sangramento")
	testutil.WriteFile(t, notes, "skip.ann", "T1\tC 0 3\tdor\n")
	single := testutil.WriteFile(t, in, "single.txt", strings.Join(demoLines(30), "\n"))
	want := func(text string) []ner.Entity {
		es, err := tg.Predict(text)
		require.NoError(t, err)
		return es
	}

	t.Run("jsonl", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		runPredictCmd(t, "Nega dispneia.\n", 0, "-model", dir, "-input", notes, "-input", single, "-input", "-", "-output", out, "-format", "jsonl")
		for _, f := range []string{"a.jsonl", "ward/b.jsonl", "single.jsonl", "stdin.jsonl"} {
			assert.FileExists(t, filepath.Join(out, f))
		}
		recs := readJSONL(t, filepath.Join(out, "a.jsonl"))
		require.Len(t, recs, 2)
		assert.Equal(t, a+":1", recs[0].ID)
		assert.Equal(t, a, recs[0].Source)
		assert.Equal(t, 3, recs[1].Line)
		assert.Equal(t, "Nega febre e tosse há 3 dias.", recs[1].Text)
		sameEntities(t, want(recs[1].Text), recs[1].Entities, "a.txt:3")
		recs = readJSONL(t, filepath.Join(out, "ward", "b.jsonl"))
		require.Len(t, recs, 2)
		assert.Equal(t, b+":2", recs[1].ID)
		sameEntities(t, want(recs[1].Text), recs[1].Entities, "b.txt:2")
		recs = readJSONL(t, filepath.Join(out, "stdin.jsonl"))
		require.Len(t, recs, 1)
		assert.Equal(t, "stdin:1", recs[0].ID)
		n := 0
		for _, l := range demoLines(30) {
			if strings.TrimSpace(l) != "" {
				n++
			}
		}
		assert.Len(t, readJSONL(t, filepath.Join(out, "single.jsonl")), n)
		noTemp(t, out)
	})

	t.Run("brat", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		runPredictCmd(t, "", 0, "-model", dir, "-input", notes, "-output", out, "-format", "brat")
		for _, f := range []string{"a.txt", "a.ann", "ward/b.txt", "ward/b.ann", "annotation.conf"} {
			assert.FileExists(t, filepath.Join(out, f))
		}
		txt, err := os.ReadFile(filepath.Join(out, "ward", "b.txt"))
		require.NoError(t, err)
		assert.Equal(t, "Evolução: melhora clínica após ceftriaxona.\nÚlcera gástrica 🙂 sem sangramento", string(txt))
		conf, err := os.ReadFile(filepath.Join(out, "annotation.conf"))
		require.NoError(t, err)
		assert.Equal(t, "[entities]\nC\nDT\n\n[relations]\n\n[events]\n\n[attributes]\n", string(conf))
		// The .ann files read back with ner.ReadBRAT (which checks every
		// annotation's text against the .txt at its offsets).
		c, err := ner.ReadBRAT(filepath.Join(out, "a.txt"), ner.BRATOptions{})
		require.NoError(t, err)
		require.Len(t, c.Documents, 1)
		ann, err := os.ReadFile(filepath.Join(out, "a.ann"))
		require.NoError(t, err)
		wantN := len(want("Paciente com dor torácica.")) + len(want("Nega febre e tosse há 3 dias."))
		assert.Equal(t, wantN, strings.Count(string(ann), "\n"))
		assert.Greater(t, wantN, 0)
		_, err = ner.ReadBRAT(filepath.Join(out, "ward", "b.txt"), ner.BRATOptions{})
		require.NoError(t, err)
	})

	t.Run("labelstudio", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		runPredictCmd(t, "", 0, "-model", dir, "-input", b, "-output", out, "-format", "labelstudio")
		raw, err := os.ReadFile(filepath.Join(out, "b.json"))
		require.NoError(t, err)
		var tasks []lsTask
		require.NoError(t, json.Unmarshal(raw, &tasks))
		require.Len(t, tasks, 2)
		assert.Equal(t, lsData{Text: "Úlcera gástrica 🙂 sem sangramento", Source: b, Line: 2}, tasks[1].Data)
		es := want(tasks[1].Data.Text)
		require.Len(t, tasks[1].Predictions, 1)
		p := tasks[1].Predictions[0]
		assert.Equal(t, testutil.ModelDirName, p.ModelVersion)
		require.Len(t, p.Result, len(es))
		for i, r := range p.Result {
			assert.Equal(t, "label", r.FromName)
			assert.Equal(t, "text", r.ToName)
			assert.Equal(t, "labels", r.Type)
			assert.Equal(t, lsValue{Start: es[i].Start, End: es[i].End, Text: es[i].Text, Labels: []string{es[i].Type}}, r.Value)
		}
		cfg, err := os.ReadFile(filepath.Join(out, "label_config.xml"))
		require.NoError(t, err)
		assert.Contains(t, string(cfg), `<Label value="DT"/>`)

		// To stdout, every input's tasks form one array.
		stdout, _ := runPredictCmd(t, "Nega febre.\n", 0, "-model", dir, "-input", b, "-input", "-", "-format", "labelstudio")
		require.NoError(t, json.Unmarshal([]byte(stdout), &tasks), stdout)
		assert.Len(t, tasks, 3)
	})

	t.Run("errors", func(t *testing.T) {
		_, stderr := runPredictCmd(t, "", 2, "-model", dir, "-input", a, "-format", "brat")
		assert.Contains(t, stderr, "-output")
		_, stderr = runPredictCmd(t, "", 2, "-model", dir, "-input", a, "-format", "xml")
		assert.Contains(t, stderr, "-format")
		_, stderr = runPredictCmd(t, "", 2, "-model", dir, "-input", a, "-input", a, "-output", t.TempDir())
		assert.Contains(t, stderr, "would both be written")
		_, stderr = runPredictCmd(t, "", 2, "-model", dir, "-input", "-", "-input", "-")
		assert.Contains(t, stderr, "twice")
		_, stderr = runPredictCmd(t, "", 1, "-model", dir, "-input", filepath.Join(in, "missing.txt"))
		assert.Contains(t, stderr, "missing.txt")
		_, stderr = runPredictCmd(t, "", 1, "-model", dir, "-input", t.TempDir())
		assert.Contains(t, stderr, "no .txt file")
		bad := testutil.WriteFile(t, t.TempDir(), "bad.txt", "dor \xff\n")
		_, stderr = runPredictCmd(t, "", 1, "-model", dir, "-input", bad)
		assert.Contains(t, stderr, "UTF-8")
		_, stderr = runPredictCmd(t, "", 2, "-model", dir, "-input", a, "-max-batch-tokens", "0")
		assert.Contains(t, stderr, "-max-batch-tokens")
		_, stderr = runPredictCmd(t, "", 2, "-model", dir, "-input", a, "-batch", "0")
		assert.Contains(t, stderr, "-batch 0")
		_, stderr = runPredictCmd(t, "", 2, "-model", dir, "-input", a, "-max-len", "-1")
		assert.Contains(t, stderr, "-max-len")
	})
}

// conllSentences returns a CoNLL output's sentences, each its lines
// joined, without -DOCSTART- lines.
func conllSentences(s string) []string {
	var out []string
	for _, block := range strings.Split(s, "\n\n") {
		if block = strings.TrimSpace(block); block != "" && !strings.HasPrefix(block, "-DOCSTART-") {
			out = append(out, block)
		}
	}
	return out
}

func readJSONL(t *testing.T, path string) []jsonlRecord {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []jsonlRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r jsonlRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

// noTemp checks that no temporary file is left under dir.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		assert.NotContains(t, d.Name(), ".tmp-", p)
		return nil
	}))
}
