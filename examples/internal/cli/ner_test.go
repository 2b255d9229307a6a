package cli

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/ner"
)

func TestNERTrainOptions(t *testing.T) {
	def := ner.DefaultTrainOptions()
	for _, tc := range []struct {
		name string
		args []string
		edit func(o *ner.TrainOptions) // on def with OutDir "out"; nil: want a usage error
		want string                    // in the usage error
	}{
		{"defaults", []string{"-out", "out"}, func(o *ner.TrainOptions) {}, ""},
		{"every flag", []string{"-out", "out", "-epochs", "2", "-lr", "1e-3", "-batch", "8", "-max-len", "64", "-weight-decay", "0",
			"-warmup-ratio", "0.2", "-seed", "7", "-device", "cpu", "-max-steps", "5", "-resume"}, func(o *ner.TrainOptions) {
			o.Epochs, o.LR, o.BatchSize, o.MaxLen, o.WeightDecay, o.WarmupRatio = 2, 1e-3, 8, 64, 0, 0.2
			o.Seed, o.Device, o.MaxSteps, o.Resume = 7, "cpu", 5, true
			o.Stride = 15 // (64-3)/4
		}, ""},
		{"stride shrinks to fit -max-len", []string{"-out", "out", "-max-len", "3"}, func(o *ner.TrainOptions) { o.MaxLen, o.Stride = 3, 0 }, ""},
		{"no out", nil, nil, "-out is required"},
		{"bad device", []string{"-out", "out", "-device", "gpu"}, nil, "-device"},
		{"bad lr", []string{"-out", "out", "-lr", "0"}, nil, "LR"},
		{"bad epochs", []string{"-out", "out", "-epochs", "0"}, nil, "Epochs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			f := BindNERTrain(fs, def, NERHelp{Docs: "documents", Malformed: "rows", Resume: true})
			require.NoError(t, fs.Parse(tc.args))
			var log bytes.Buffer
			o, err := f.Options(&log)
			if tc.edit == nil {
				assert.ErrorIs(t, err, ErrUsage)
				assert.ErrorContains(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			want := def
			want.OutDir, want.Log = "out", &log
			tc.edit(&want)
			assert.Equal(t, want, o)
		})
	}
}

func TestNERTrainHelp(t *testing.T) {
	help := func(h NERHelp) string {
		var b bytes.Buffer
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(&b)
		BindNERTrain(fs, ner.DefaultTrainOptions(), h)
		fs.PrintDefaults()
		return b.String()
	}
	one := help(NERHelp{Docs: "documents", Malformed: "rows", Resume: true})
	for _, want := range []string{"fraction of documents for training (default 0.6)", "skip malformed rows", "the head's initialisation",
		"\tepochs (default 10)", "\tstop after this many", "-resume", "(default 3e-05)", "(default 256)", `(default "cpu")`} {
		assert.Contains(t, one, want)
	}
	per := help(NERHelp{Docs: "notes", Malformed: "annotations", PerGroup: true})
	for _, want := range []string{"fraction of notes for development", "skip malformed annotations", "the heads' initialisation",
		"epochs per group (default 10)", "stop each group after"} {
		assert.Contains(t, per, want)
	}
	assert.NotContains(t, per, "-resume")
}

func TestNERTrainSplit(t *testing.T) {
	c := &ner.Corpus{Scheme: ner.IOB2}
	for i := range 10 {
		id := fmt.Sprintf("d%02d", i)
		c.Documents = append(c.Documents, ner.Document{ID: id, Group: id, Sentences: []ner.Sentence{{Words: []string{"a"}, Tags: []string{"O"}}}})
	}
	split := func(args ...string) ner.Split {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f := BindNERTrain(fs, ner.DefaultTrainOptions(), NERHelp{Docs: "documents", Malformed: "rows"})
		require.NoError(t, fs.Parse(args))
		s, err := f.Split(c)
		require.NoError(t, err)
		return s
	}
	s := split()
	assert.Equal(t, [3]int{6, 2, 2}, [3]int{len(s.Train.Documents), len(s.Dev.Documents), len(s.Test.Documents)})
	s = split("-train", "0.5", "-dev", "0.3", "-seed", "3")
	assert.Equal(t, [3]int{5, 3, 2}, [3]int{len(s.Train.Documents), len(s.Dev.Documents), len(s.Test.Documents)})

	// -split reads the lists back.
	dir := t.TempDir()
	require.NoError(t, s.WriteFileLists(dir))
	again := split("-split", dir)
	assert.Equal(t, s.Test.Documents, again.Test.Documents)
}

func TestNERTrainModel(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f := BindNERTrain(fs, ner.DefaultTrainOptions(), NERHelp{Docs: "documents", Malformed: "rows"})
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, "bert-base-multilingual-cased", f.Model)
	assert.Equal(t, "bert-base-multilingual-cased", f.ModelName())
	assert.False(t, f.Lenient)
	require.NoError(t, fs.Parse([]string{"-model", "pucpr/biobertpt-clin", "-lenient"}))
	assert.Equal(t, "biobertpt-clin", f.ModelName())
	assert.True(t, f.Lenient)
	require.NoError(t, fs.Parse([]string{"-name", "BioBERTpt(clin)", "-out", "o"}))
	assert.Equal(t, "BioBERTpt(clin)", f.ModelName())
	assert.Equal(t, "o", f.Out)
}

func TestModelName(t *testing.T) {
	assert.Equal(t, "mine", ModelName("mine", "pucpr/biobertpt-clin"))
	assert.Equal(t, "biobertpt-clin", ModelName("", "pucpr/biobertpt-clin"))
	assert.Equal(t, "tiny", ModelName("", filepath.Join("runs", "tiny")+string(filepath.Separator)))
}

func TestWriteJSON(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "final"), 0o755))
	require.NoError(t, WriteJSON(filepath.Join(dir, "final", "config.json"), map[string]int{"hidden_size": 32}))
	b, err := os.ReadFile(filepath.Join(dir, "final", "config.json"))
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"hidden_size\": 32\n}\n", string(b))
}

func TestNewFlagSet(t *testing.T) {
	var b bytes.Buffer
	fs := NewFlagSet("prog", "usage: prog [flags]\n", &b)
	fs.Int("n", 3, "a number")
	assert.ErrorIs(t, fs.Parse([]string{"-h"}), flag.ErrHelp)
	assert.Equal(t, "usage: prog [flags]\n  -n int\n    \ta number (default 3)\n", b.String())
	b.Reset()
	assert.Error(t, fs.Parse([]string{"-x"}))
	assert.Contains(t, b.String(), "flag provided but not defined: -x")
}

// TestNERTrainReadSplit: -train-file/-dev-file/-test-file read the parts
// (without -dev-file, -dev/(-train + -dev) of the training documents form
// the dev part); the flags' misuses are usage errors.
func TestNERTrainReadSplit(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		var b bytes.Buffer
		for i := 0; i < n; i++ {
			b.WriteString("-DOCSTART- O\n\nDor B-C\n. O\n\n")
		}
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
		return p
	}
	train, dev, test := write("train.conll", 8), write("dev.conll", 2), write("test.conll", 3)
	read := func(p string) (*ner.Corpus, error) { return ner.ReadCoNLL(p, ner.CoNLLOptions{}) }
	parse := func(args ...string) *NERTrain {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		f := BindNERTrain(fs, ner.DefaultTrainOptions(), NERHelp{Docs: "documents", Malformed: "rows"})
		require.NoError(t, fs.Parse(args))
		return f
	}
	count := func(s ner.Split) [3]int {
		return [3]int{len(s.Train.Documents), len(s.Dev.Documents), len(s.Test.Documents)}
	}
	c, s, err := parse("-train-file", train, "-dev-file", dev, "-test-file", test).ReadSplit("", read)
	require.NoError(t, err)
	assert.Equal(t, [3]int{8, 2, 3}, count(s))
	assert.Len(t, c.Documents, 8)
	_, s, err = parse("-train-file", train, "-test-file", test).ReadSplit("", read)
	require.NoError(t, err)
	assert.Equal(t, [3]int{6, 2, 3}, count(s), "0.2/(0.6+0.2) of 8 documents")
	f := parse("-train-file", train, "-dev-file", dev)
	assert.Equal(t, "train="+train+" dev="+dev, f.DataName("ignored"))
	assert.Equal(t, "d", parse().DataName("d"))

	for _, tc := range []struct {
		args []string
		data string
		want string
	}{
		{[]string{"-dev-file", dev}, "d", "-dev-file and -test-file need -train-file"},
		{nil, "", "-data or -train-file is required"},
		{[]string{"-train-file", train}, "d", "not with -data or -split"},
		{[]string{"-train-file", train, "-split", dir}, "", "not with -data or -split"},
	} {
		_, _, err := parse(tc.args...).ReadSplit(tc.data, read)
		require.Error(t, err, tc.want)
		assert.ErrorIs(t, err, ErrUsage)
		assert.Contains(t, err.Error(), tc.want)
	}
}
