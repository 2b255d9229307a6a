package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runStatsCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

func statsConllDir(t *testing.T) string {
	dir := t.TempDir()
	docs := map[string]string{
		"a.conll": "Dor\tB-C\ntorácica\tI-C\n.\tO\n\nNega\tB-N\nfebre\tB-C\n",
		"b.conll": "TA\tB-T\nnormal\tB-R\n",
		"c.conll": "Sem\tO\nqueixas\tO\n",
		"d.conll": "Febre\tB-C\n",
		"e.conll": "RX\tB-T\n",
	}
	for name, content := range docs {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

func TestStatsJSON(t *testing.T) {
	dir := statsConllDir(t)
	code, out, errs := runStatsCmd(t, "stats", "-corpus", "conll", "-data", dir, "-json")
	require.Equal(t, 0, code, errs)
	assert.JSONEq(t, `{"documents":5,"sentences":6,"tokens":11,"entities":{"C":3,"N":1,"R":1,"T":2}}`, out)

	splitDir := filepath.Join(t.TempDir(), "lists")
	code, out, errs = runStatsCmd(t, "stats", "-corpus", "conll", "-data", dir, "-json", "-split", "0.6,0.2", "-seed", "1", "-write-split", splitDir)
	require.Equal(t, 0, code, errs)
	var got struct {
		Documents int
		Seed      int64
		Split     map[string]struct{ Documents, Tokens int }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, int64(1), got.Seed)
	assert.Equal(t, 3, got.Split["train"].Documents)
	assert.Equal(t, 1, got.Split["dev"].Documents)
	assert.Equal(t, 1, got.Split["test"].Documents)
	assert.Equal(t, 11, got.Split["train"].Tokens+got.Split["dev"].Tokens+got.Split["test"].Tokens)
	b, err := os.ReadFile(filepath.Join(splitDir, "train.txt"))
	require.NoError(t, err)
	assert.Len(t, strings.Fields(string(b)), 3)
}

func TestStatsText(t *testing.T) {
	dir := statsConllDir(t)
	code, out, errs := runStatsCmd(t, "stats", "-corpus", "conll", "-data", dir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "documents 5  sentences 6  tokens 11  entities 7")
	assert.Regexp(t, `(?m)^C +3$`, out)

	code, out, _ = runStatsCmd(t, "stats", "-corpus", "conll", "-data", dir, "-split", "0.6,0.2")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "seed 42")
	assert.Regexp(t, `(?m)^documents +3 +1 +1 +5$`, out)
}

func TestStatsCLINptSamples(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "clinpt-sample")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("CLINpt samples not present:", err)
	}
	code, out, errs := runStatsCmd(t, "stats", "-corpus", "clinpt", "-data", dir, "-json", "-split", "0.5,0")
	require.Equal(t, 0, code, errs)
	var got struct {
		Tokens int
		Split  map[string]struct{ Documents int }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	assert.Equal(t, 230+96+102, got.Tokens)
	// The two parts of "P14 pag 186" stay together: 2 groups, one per part.
	docs := []int{got.Split["train"].Documents, got.Split["test"].Documents}
	assert.ElementsMatch(t, []int{1, 2}, docs)
}

func TestStatsErrors(t *testing.T) {
	dir := statsConllDir(t)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"stats", "-data", dir}, 2, "usage"},
		{[]string{"stats", "-corpus", "xml", "-data", dir}, 2, `unknown corpus "xml"`},
		{[]string{"stats", "-corpus", "conll", "-data", dir, "-split", "0.6"}, 2, "-split"},
		{[]string{"stats", "-corpus", "conll", "-data", dir, "-scheme", "XYZ"}, 2, "unknown scheme"},
		{[]string{"stats", "-corpus", "conll", "-data", dir, "-write-split", dir}, 2, "needs -split"},
		{[]string{"stats", "-corpus", "conll", "-data", filepath.Join(dir, "absent")}, 1, "absent"},
		{[]string{"stats", "-corpus", "conll", "-data", dir, "-split", "0.9,0.2"}, 2, "train+dev <= 1"},
	} {
		code, _, errs := runStatsCmd(t, tc.args...)
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, errs)
		assert.Contains(t, errs, tc.msg, "%v", tc.args)
	}
	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "x.conll"), []byte("a\tO\nb\tB-\n"), 0o644))
	code, _, errs := runStatsCmd(t, "stats", "-corpus", "conll", "-data", bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "x.conll:2")
	code, out, errs := runStatsCmd(t, "stats", "-corpus", "conll", "-data", bad, "-lenient", "-json")
	assert.Equal(t, 0, code)
	assert.Contains(t, errs, "1 warning(s)")
	assert.Contains(t, out, `"tokens":2`)
}
