package pretrain

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referenceBlocks is HF group_texts written naively: [CLS] s [SEP] for each
// sentence of the chosen documents, concatenated and cut.
func referenceBlocks(c *Cache, docs []int, opts BlockOptions) [][]int32 {
	sp := c.Specials()
	if opts.LineByLine {
		var out [][]int32
		for _, d := range docs {
			lo, hi := c.DocumentSentences(d)
			for s := lo; s < hi; s++ {
				ids := c.Sentence(s)
				ex := []int32{int32(sp.CLS)}
				for k, x := range ids {
					if k == opts.BlockSize-2 {
						break
					}
					ex = append(ex, int32(x))
				}
				out = append(out, append(ex, int32(sp.SEP)))
			}
		}
		return out
	}
	var stream []int32
	for _, d := range docs {
		lo, hi := c.DocumentSentences(d)
		for s := lo; s < hi; s++ {
			stream = append(stream, int32(sp.CLS))
			for _, x := range c.Sentence(s) {
				stream = append(stream, int32(x))
			}
			stream = append(stream, int32(sp.SEP))
		}
	}
	var out [][]int32
	for i := 0; i+opts.BlockSize <= len(stream); i += opts.BlockSize {
		out = append(out, stream[i:i+opts.BlockSize])
	}
	if r := len(stream) % opts.BlockSize; opts.KeepLast && r > 0 {
		out = append(out, stream[len(stream)-r:])
	}
	return out
}

// splitDocs recovers the document indices of each split from the datasets' runs.
func splitDocs(t *testing.T, c *Cache, train, val *Dataset) (tr, va []int) {
	t.Helper()
	docOf := map[int]int{}
	for d := 0; d < c.NumDocuments(); d++ {
		lo, _ := c.DocumentSentences(d)
		docOf[lo] = d
	}
	collect := func(ds *Dataset) []int {
		var out []int
		for _, r := range ds.runs {
			for s := r.lo; s < r.hi; s++ {
				if d, ok := docOf[s]; ok {
					out = append(out, d)
				}
			}
		}
		return out
	}
	return collect(train), collect(val)
}

func TestDatasetsMatchGroupTexts(t *testing.T) {
	enc := newFakeEncoder()
	c, _ := buildTestCache(t, enc, 400, 5, CacheOptions{Corpus: CorpusOptions{Format: Paragraphs}})
	tests := []struct {
		name string
		opts BlockOptions
	}{
		{"grouped 64, no validation", BlockOptions{BlockSize: 64}},
		{"grouped 64, 20% validation", BlockOptions{BlockSize: 64, ValidationFraction: 0.2, Seed: 1}},
		{"grouped 512 keep last", BlockOptions{BlockSize: 512, ValidationFraction: 0.1, KeepLast: true, Seed: 42}},
		{"grouped 3", BlockOptions{BlockSize: 3, ValidationFraction: 0.3, Seed: 9}},
		{"line by line truncated", BlockOptions{BlockSize: 8, LineByLine: true, ValidationFraction: 0.25, Seed: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, val, err := NewDatasets(c, tc.opts)
			require.NoError(t, err)
			tr, va := splitDocs(t, c, train, val)
			assert.Equal(t, c.NumDocuments(), len(tr)+len(va))
			assert.Equal(t, c.NumDocuments(), train.NumDocuments()+val.NumDocuments())
			if tc.opts.ValidationFraction > 0 {
				assert.InDelta(t, tc.opts.ValidationFraction*float64(c.NumDocuments()), float64(len(va)), 1)
			}
			assert.Equal(t, c.NumTokens(), train.NumTokens()+val.NumTokens())
			for _, pair := range []struct {
				ds   *Dataset
				docs []int
			}{{train, tr}, {val, va}} {
				want := referenceBlocks(c, pair.docs, tc.opts)
				require.Equal(t, len(want), pair.ds.Len())
				var buf []int32
				for i, w := range want {
					buf, err = pair.ds.Example(i, buf)
					require.NoError(t, err)
					require.Equal(t, w, buf, "example %d", i)
				}
			}
			_, err = train.Example(train.Len(), nil)
			assert.Error(t, err)
			_, err = train.Example(-1, nil)
			assert.Error(t, err)
		})
	}
}

func TestValidationSplitDeterministic(t *testing.T) {
	c, _ := buildTestCache(t, newFakeEncoder(), 300, 0, CacheOptions{})
	opts := BlockOptions{BlockSize: 32, ValidationFraction: 0.1, Seed: 42}
	tr1, va1, err := NewDatasets(c, opts)
	require.NoError(t, err)
	tr2, va2, err := NewDatasets(c, opts)
	require.NoError(t, err)
	a1, b1 := splitDocs(t, c, tr1, va1)
	a2, b2 := splitDocs(t, c, tr2, va2)
	assert.Equal(t, a1, a2)
	assert.Equal(t, b1, b2)
	assert.Len(t, b1, 30)

	opts.Seed = 43
	tr3, va3, err := NewDatasets(c, opts)
	require.NoError(t, err)
	_, b3 := splitDocs(t, c, tr3, va3)
	assert.NotEqual(t, b1, b3)
}

func TestNewDatasetsErrors(t *testing.T) {
	dir := t.TempDir()
	one := writeFile(t, dir, "one.txt", []byte("abc abd\n"))
	enc := newFakeEncoder()
	c, err := BuildCache(t.Context(), []string{one}, enc, CacheOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	defer c.Close()

	_, _, err = NewDatasets(c, BlockOptions{BlockSize: 512, ValidationFraction: 0.1})
	assert.ErrorContains(t, err, "at least 2 documents")
	_, _, err = NewDatasets(c, BlockOptions{BlockSize: 512})
	assert.ErrorContains(t, err, "no block of 512")
	train, _, err := NewDatasets(c, BlockOptions{BlockSize: 512, KeepLast: true})
	require.NoError(t, err)
	ex, err := train.Example(0, nil)
	require.NoError(t, err)
	assert.Equal(t, []int32{2, int32(enc.ids["abc"]), int32(enc.ids["abd"]), 3}, ex)

	for _, bad := range []BlockOptions{{BlockSize: 2}, {BlockSize: 8, ValidationFraction: 1}, {BlockSize: 8, ValidationFraction: -0.1}} {
		_, _, err := NewDatasets(c, bad)
		assert.Error(t, err)
	}
	_, _, err = NewDatasets(nil, DefaultBlockOptions())
	assert.Error(t, err)
}
