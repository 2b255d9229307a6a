package metrics_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/metrics"
)

// The .golden files are the output of `perl conlleval.pl [flags] < NAME.txt`
// (conlleval.pl 2004-01-26, read from outside the repository when present).
var goldenCases = []struct {
	name string
	opts metrics.ConllOptions // the conlleval flags used for the golden file
}{
	{"basic", metrics.ConllOptions{}},
	{"istarts", metrics.ConllOptions{}},    // I- after O / after another type starts a chunk
	{"typechange", metrics.ConllOptions{}}, // type changes inside chunks
	{"iobes", metrics.ConllOptions{}},      // E-/S- tags: S-X S-X is one chunk for conlleval
	{"ioe", metrics.ConllOptions{}},
	{"docstart", metrics.ConllOptions{}}, // -DOCSTART- lines count as tokens
	{"brackets", metrics.ConllOptions{}}, // [-X and ]-X tags: one-token chunks
	{"empty", metrics.ConllOptions{}},    // leading, repeated and trailing blank lines
	{"allo", metrics.ConllOptions{}},
	{"nogold", metrics.ConllOptions{}},
	{"nopred", metrics.ConllOptions{}},
	{"hyphentypes", metrics.ConllOptions{}}, // types containing '-'
	{"xboundary", metrics.ConllOptions{}},   // -X- boundary lines
	{"fourcols", metrics.ConllOptions{}},
	{"dottags", metrics.ConllOptions{}},                     // "." prefixes never start chunks
	{"raw", metrics.ConllOptions{Raw: true}},                // -r
	{"rawo", metrics.ConllOptions{Raw: true, OTag: "NONE"}}, // -r -o NONE
	{"delim", metrics.ConllOptions{Delimiter: "|"}},         // -d '\|'
}

func TestWriteConllevalGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			in := filepath.Join("testdata", "conlleval", tc.name+".txt")
			f, err := os.Open(in)
			require.NoError(t, err)
			defer f.Close()
			c, err := metrics.ReadConll(f, in, tc.opts)
			require.NoError(t, err)
			var out bytes.Buffer
			require.NoError(t, metrics.WriteConlleval(&out, c))
			want, err := os.ReadFile(filepath.Join("testdata", "conlleval", tc.name+".golden"))
			require.NoError(t, err)
			assert.Equal(t, string(want), out.String())
		})
	}
}

func TestReadConllErrors(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"column count", "a B-PER B-PER\nb I-PER\n", "f.txt:2: 2 fields, want 3"},
		{"bad gold tag", "a B-PER B-PER\n\nb PER O\n", `f.txt:3: tag "PER" is neither O nor PREFIX-TYPE`},
		{"bad pred tag", "a O B-\n", `f.txt:1: tag "B-" is neither O nor PREFIX-TYPE`},
		{"empty prefix", "a O -PER\n", `f.txt:1: tag "-PER" is neither O nor PREFIX-TYPE`},
		{"one column", "a\n", "f.txt:1: 1 field, want at least 2"},
		{"boundary columns", "a O O\n-X- O\n", "f.txt:2: 2 fields, want 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := metrics.ReadConll(strings.NewReader(tc.in), "f.txt", metrics.ConllOptions{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "metrics: read f.txt:"), err.Error())
		})
	}
}

func TestReadConllStructure(t *testing.T) {
	in := "\n-DOCSTART- -X- O O\n\nw1 NN B-A B-A\nw2 NN I-A O\r\n\n\nw3 NN O B-B\n"
	c, err := metrics.ReadConll(strings.NewReader(in), "x", metrics.ConllOptions{})
	require.NoError(t, err)
	require.Len(t, c.Sentences, 3)
	assert.Equal(t, []string{"O"}, c.Sentences[0].Gold)
	assert.Equal(t, [][]string{{"w1", "NN"}, {"w2", "NN"}}, c.Sentences[1].Fields)
	assert.Equal(t, []string{"B-A", "O"}, c.Sentences[1].Pred)
	assert.Equal(t, []int{4, 5}, c.Sentences[1].Lines)
	assert.Equal(t, [][]string{{"O"}, {"B-A", "I-A"}, {"O"}}, c.Gold())
	assert.False(t, c.EndsWithBoundary)
}

// randomTags draws a tag from a small alphabet that mixes schemes, so that the
// conlleval rules meet every transition.
func randomTag(r *rand.Rand) string {
	prefixes := []string{"B", "I", "E", "S", "[", "]", "."}
	types := []string{"A", "B", "C-D"}
	if r.IntN(3) == 0 {
		return "O"
	}
	return prefixes[r.IntN(len(prefixes))] + "-" + types[r.IntN(len(types))]
}

func randomConll(r *rand.Rand, nSent int) string {
	var b strings.Builder
	for s := 0; s < nSent; s++ {
		if r.IntN(10) == 0 {
			b.WriteString("-DOCSTART- -X- O O\n\n")
		}
		n := r.IntN(12)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "w%d x %s %s\n", i, randomTag(r), randomTag(r))
		}
		if s < nSent-1 || r.IntN(2) == 0 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// TestConllevalLive compares WriteConlleval with the real script on seeded
// random files (skipped under -short or without perl or the script).
func TestConllevalLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	perl, err := exec.LookPath("perl")
	if err != nil {
		t.Skip("perl not found")
	}
	script := filepath.Join("..", "..", "shared", "tools", "conlleval.pl")
	if _, err := os.Stat(script); err != nil {
		t.Skip("conlleval.pl not found at ../shared/tools")
	}
	r := rand.New(rand.NewPCG(2020, 4))
	for i := 0; i < 60; i++ {
		in := randomConll(r, 1+r.IntN(30))
		cmd := exec.Command(perl, script)
		cmd.Stdin = strings.NewReader(in)
		want, err := cmd.Output()
		require.NoError(t, err)
		c, err := metrics.ReadConll(strings.NewReader(in), "random", metrics.ConllOptions{})
		require.NoError(t, err)
		var got bytes.Buffer
		require.NoError(t, metrics.WriteConlleval(&got, c))
		require.Equal(t, string(want), got.String(), "input:\n%s", in)

		// Evaluate in Conlleval mode gives the same counts (it puts a
		// boundary after every sentence, which equals the file's when the
		// file ends with a blank line).
		if c.EndsWithBoundary {
			rep, err := metrics.Evaluate(c.Gold(), c.Pred(), metrics.Options{})
			require.NoError(t, err)
			cr := metrics.ConllevalReport(c, metrics.Options{})
			assert.Equal(t, cr.Micro, rep.Micro)
			assert.Equal(t, cr.Tokens, rep.Tokens)
			assert.Equal(t, cr.CorrectTokens, rep.CorrectTokens)
		}
	}
}

// Tags the reader rejects still go through Evaluate and WriteConlleval like
// conlleval.pl: `printf 'a B B\nb 00 00\nc . .\nd -00 -00\n' | perl conlleval.pl`
// prints this (note the type "" listed twice, a quirk of the script).
func TestConllevalIllFormedTags(t *testing.T) {
	tags := []string{"B", "00", ".", "-00"}
	c := &metrics.Corpus{Sentences: []metrics.Sentence{{Gold: tags, Pred: tags}}}
	var b bytes.Buffer
	require.NoError(t, metrics.WriteConlleval(&b, c))
	assert.Equal(t, ""+
		"processed 4 tokens with 2 phrases; found: 2 phrases; correct: 1.\n"+
		"accuracy: 100.00%; precision:  50.00%; recall:  50.00%; FB1:  50.00\n"+
		"                 : precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n"+
		"                 : precision:   0.00%; recall:   0.00%; FB1:   0.00  1\n"+
		"               00: precision: 100.00%; recall: 100.00%; FB1: 100.00  1\n", b.String())
	r, err := metrics.Evaluate([][]string{tags}, [][]string{tags}, metrics.Options{})
	require.NoError(t, err)
	assert.Equal(t, metrics.Scores{Precision: 0.5, Recall: 0.5, F1: 0.5, Support: 2, Found: 2, Correct: 1}, r.Micro)
	assert.Equal(t, 1.0, r.Accuracy)
}
