package cli

import (
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// TestNERTrainRecipe: with NERHelp.SplitFiles and Recipe (biobertpt
// train-ner), -train/-dev/-test are files, -split the fractions, -model
// has no default, the recipe flags reach the options and -stride is kept
// as given; bad values are usage errors naming the flag.
func TestNERTrainRecipe(t *testing.T) {
	def := ner.DefaultTrainOptions()
	parse := func(args ...string) (*NERTrain, error) {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := BindNERTrain(fs, def, NERHelp{Docs: "documents", Malformed: "rows", SplitFiles: true, Recipe: true})
		return f, ParseFlags(fs, args, f.Rules()...)
	}
	f, err := parse("-out", "o", "-train", "a.conll", "-test", "c.conll", "-split", "0.5,0.3", "-config", "cfg.json", "-vocab", "v.txt",
		"-clip", "0.5", "-stride", "60", "-max-len", "64", "-scheme", "iobes", "-decode", "argmax", "-splitter", "bert", "-crf", "-early-stopping", "2")
	require.NoError(t, err)
	assert.Equal(t, ner.SplitFiles{Train: "a.conll", Test: "c.conll"}, f.Files())
	tr, dv := f.Fractions()
	assert.Equal(t, [2]float64{0.5, 0.3}, [2]float64{tr, dv})
	assert.Equal(t, "", f.Model)
	assert.Equal(t, [2]string{"cfg.json", "v.txt"}, [2]string{f.Config, f.Vocab})
	o, err := f.Options(nil)
	require.NoError(t, err)
	assert.Equal(t, 0.5, o.MaxGradNorm)
	assert.Equal(t, 60, o.Stride)
	assert.Equal(t, ner.IOBES, o.Scheme)
	assert.Equal(t, tokenize.WordSplitter("bert"), o.WordSplitter)
	assert.True(t, o.CRF)
	assert.Equal(t, 2, o.EarlyStopping)
	d, err := ner.ParseDecode("argmax")
	require.NoError(t, err)
	assert.Equal(t, d, o.Decode)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-split", "0.6"}, `-split "0.6": want train,dev fractions`},
		{[]string{"-split", "0.9,0.2"}, "train+dev <= 1"},
		{[]string{"-clip", "-1"}, "-clip -1: want >= 0"},
		{[]string{"-stride", "-1"}, "-stride -1: want >= 0"},
		{[]string{"-scheme", "xyz"}, `-scheme "xyz"`},
		{[]string{"-decode", "beam"}, `-decode "beam": want viterbi or argmax`},
		{[]string{"-train", "0.5"}, ""},
	} {
		_, err := parse(tc.args...)
		if tc.want == "" {
			assert.NoError(t, err, "-train is a file name")
			continue
		}
		assert.ErrorIs(t, err, ErrUsage)
		assert.ErrorContains(t, err, tc.want)
	}
}
