package pretrain

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVariantsBind(t *testing.T) {
	tests := []struct {
		name    string
		variant string
		corpus  string
		want    []BoundStage
		err     string
	}{
		{"clin unnamed", "clin", "notes/*.txt.gz", []BoundStage{{"clin", []string{"notes/*.txt.gz"}}}, ""},
		{"clin named", "clin", "clinical=a.txt,clinical=b.txt", []BoundStage{{"clin", []string{"a.txt", "b.txt"}}}, ""},
		{"bio unnamed", "bio", "a.txt,b.txt", []BoundStage{{"bio", []string{"a.txt", "b.txt"}}}, ""},
		{"bio named in paper order", "bio", "pubmed-titles=p.txt,scielo-health=h.txt,scielo-biology=b.txt",
			[]BoundStage{{"bio", []string{"h.txt", "b.txt", "p.txt"}}}, ""},
		{"bio missing corpus", "bio", "scielo-health=h.txt", nil, "no files for corpus scielo-biology"},
		{"all named", "all", "clinical=c.txt,scielo-health=h.txt,scielo-biology=b.txt,pubmed-titles=p.txt",
			[]BoundStage{{"clin", []string{"c.txt"}}, {"bio", []string{"h.txt", "b.txt", "p.txt"}}}, ""},
		{"all unnamed is ambiguous", "all", "c.txt", nil, "name each corpus"},
		{"unknown corpus", "clin", "wikipedia=w.txt", nil, "unknown corpus wikipedia"},
		{"custom", "custom", "x.txt,custom=y.txt", []BoundStage{{"custom", []string{"y.txt", "x.txt"}}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := LookupVariant(tc.variant)
			require.NoError(t, err)
			corpora, err := ParseCorpusArg(tc.corpus)
			require.NoError(t, err)
			got, err := v.Bind(corpora)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := LookupVariant("wiki")
	assert.ErrorContains(t, err, "unknown variant")
	for _, bad := range []string{"", " , ", "=x.txt", "name="} {
		_, err := ParseCorpusArg(bad)
		assert.Error(t, err, bad)
	}
}

func TestVariantsUseKnownCorpora(t *testing.T) {
	known := map[string]bool{}
	for _, c := range Corpora() {
		known[c.Name] = true
		assert.Positive(t, c.Sentences)
		assert.Greater(t, c.Words, c.Sentences)
	}
	for _, v := range Variants() {
		for _, s := range v.Stages {
			for _, c := range s.Corpora {
				assert.True(t, known[c], "%s/%s: %s", v.Name, s.Name, c)
			}
		}
	}
	all, err := LookupVariant("all")
	require.NoError(t, err)
	clin, _ := LookupVariant("clin")
	bio, _ := LookupVariant("bio")
	assert.Equal(t, append(clin.Stages, bio.Stages...), all.Stages)
}

func TestDefaultOptions(t *testing.T) {
	o := DefaultOptions()
	require.NoError(t, o.Validate())
	assert.Equal(t, 5, o.Epochs)
	assert.Equal(t, 4, o.BatchSize)
	assert.Equal(t, 2e-5, o.LR)
	assert.Equal(t, 512, o.BlockSize)
	assert.Equal(t, 0.15, o.MLMProbability)
	assert.Equal(t, 0.01, o.WeightDecay)
	assert.Equal(t, 0.0, o.WarmupRatio)
	assert.Equal(t, int64(42), o.Seed)
	assert.Equal(t, BlockOptions{BlockSize: 512, ValidationFraction: 0.05, Seed: 42}, o.BlockOptions())
	assert.Equal(t, DefaultBlockOptions(), o.BlockOptions())
	assert.Equal(t, DefaultMaskOptions(), o.MaskOptions())
	assert.Equal(t, DefaultBatchOptions(), o.BatchOptions())

	tests := []struct {
		field string
		mod   func(*Options)
	}{
		{"Epochs", func(o *Options) { o.Epochs = 0 }},
		{"MaxSteps", func(o *Options) { o.MaxSteps = -1 }},
		{"BatchSize", func(o *Options) { o.BatchSize = 0 }},
		{"GradAccum", func(o *Options) { o.GradAccum = 0 }},
		{"LR", func(o *Options) { o.LR = math.Inf(1) }},
		{"WarmupRatio", func(o *Options) { o.WarmupRatio = 1 }},
		{"WarmupSteps", func(o *Options) { o.WarmupSteps = -3 }},
		{"WeightDecay", func(o *Options) { o.WeightDecay = math.NaN() }},
		{"AdamBeta2", func(o *Options) { o.AdamBeta2 = 1 }},
		{"AdamEpsilon", func(o *Options) { o.AdamEpsilon = 0 }},
		{"MaxGradNorm", func(o *Options) { o.MaxGradNorm = -1 }},
		{"BlockSize", func(o *Options) { o.BlockSize = 1 }},
		{"Probability", func(o *Options) { o.MLMProbability = 0 }},
		{"ValidationFraction", func(o *Options) { o.ValidationFraction = 1.5 }},
		{"SaveSteps", func(o *Options) { o.SaveSteps = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			o := DefaultOptions()
			tc.mod(&o)
			assert.ErrorContains(t, o.Validate(), tc.field)
		})
	}
	o = DefaultOptions()
	o.Epochs, o.MaxSteps = 0, 100
	assert.NoError(t, o.Validate(), "MaxSteps alone is enough")
}
