package ner

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupedCorpus has n documents; documents "Gk 1", "Gk 2" share group Gk
// for every third k.
func groupedCorpus(n int) *Corpus {
	c := &Corpus{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("D%02d", i)
		g := id
		if i%3 == 0 && i+1 < n {
			g = fmt.Sprintf("G%02d", i)
		}
		if i%3 == 1 && i > 0 {
			g = fmt.Sprintf("G%02d", i-1)
		}
		c.Documents = append(c.Documents, Document{ID: id, Group: g, Sentences: []Sentence{{Words: []string{"w"}, Tags: []string{"B-X"}}}})
	}
	return c
}

func ids(c *Corpus) []string {
	var out []string
	for _, d := range c.Documents {
		out = append(out, d.ID)
	}
	return out
}

func TestSplitDocuments(t *testing.T) {
	c := groupedCorpus(50)
	s, err := SplitDocuments(c, 0.6, 0.2, 42)
	require.NoError(t, err)
	n := len(s.Train.Documents) + len(s.Dev.Documents) + len(s.Test.Documents)
	assert.Equal(t, 50, n)
	assert.InDelta(t, 30, len(s.Train.Documents), 1)
	assert.InDelta(t, 10, len(s.Dev.Documents), 1)
	assert.InDelta(t, 10, len(s.Test.Documents), 2)
	// Groups never straddle parts.
	part := map[string]string{}
	for name, p := range map[string]*Corpus{"train": s.Train, "dev": s.Dev, "test": s.Test} {
		for _, d := range p.Documents {
			if prev, ok := part[d.Group]; ok {
				assert.Equal(t, prev, name, "group %s split", d.Group)
			}
			part[d.Group] = name
		}
	}
	// Deterministic, seed-dependent, independent of reading order.
	again, err := SplitDocuments(c, 0.6, 0.2, 42)
	require.NoError(t, err)
	assert.Equal(t, ids(s.Test), ids(again.Test))
	other, err := SplitDocuments(c, 0.6, 0.2, 7)
	require.NoError(t, err)
	assert.NotEqual(t, ids(s.Test), ids(other.Test))
	rev := &Corpus{}
	for i := len(c.Documents) - 1; i >= 0; i-- {
		rev.Documents = append(rev.Documents, c.Documents[i])
	}
	rs, err := SplitDocuments(rev, 0.6, 0.2, 42)
	require.NoError(t, err)
	assert.ElementsMatch(t, ids(s.Test), ids(rs.Test))
	// Golden: the seed fixes the split for good (PCG + our Fisher–Yates).
	assert.Equal(t, goldenTest42, ids(s.Test))

	st := s.Stats()
	assert.Equal(t, len(s.Train.Documents), st.Train.Documents)
	assert.Equal(t, len(s.Test.Documents), st.Test.Entities["X"])
}

// goldenTest42 is the test part of groupedCorpus(50) with seed 42.
var goldenTest42 = []string{"D03", "D04", "D08", "D18", "D19", "D23", "D32", "D36", "D37", "D38"}

func TestSplitDocumentsErrors(t *testing.T) {
	c := groupedCorpus(2)
	_, err := SplitDocuments(c, 0.6, 0.2, 1)
	assert.ErrorContains(t, err, "empty")
	for _, f := range [][2]float64{{0, 0.2}, {0.9, 0.2}, {1.1, 0}, {0.5, -0.1}} {
		_, err := SplitDocuments(groupedCorpus(10), f[0], f[1], 1)
		assert.ErrorContains(t, err, "fractions", "%v", f)
	}
	_, err = SplitDocuments(&Corpus{}, 0.6, 0.2, 1)
	assert.ErrorContains(t, err, "empty corpus")
	all, err := SplitDocuments(groupedCorpus(5), 1, 0, 1)
	require.NoError(t, err)
	assert.Len(t, all.Train.Documents, 5)
	assert.Empty(t, all.Test.Documents)
}

func TestKFold(t *testing.T) {
	c := groupedCorpus(20)
	folds, err := KFold(c, 5, 3)
	require.NoError(t, err)
	require.Len(t, folds, 5)
	seen := map[string]int{}
	for _, f := range folds {
		assert.Empty(t, f.Dev.Documents)
		assert.Equal(t, 20, len(f.Train.Documents)+len(f.Test.Documents))
		assert.InDelta(t, 4, len(f.Test.Documents), 1)
		for _, d := range f.Test.Documents {
			seen[d.ID]++
		}
		testGroups := map[string]bool{}
		for _, d := range f.Test.Documents {
			testGroups[d.Group] = true
		}
		for _, d := range f.Train.Documents {
			assert.False(t, testGroups[d.Group], "group %s in train and test", d.Group)
		}
	}
	assert.Len(t, seen, 20)
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
	_, err = KFold(c, 1, 3)
	assert.ErrorContains(t, err, "k = 1")
	_, err = KFold(groupedCorpus(2), 2, 3)
	assert.ErrorContains(t, err, "k = 2")
}

func TestFileLists(t *testing.T) {
	c := groupedCorpus(12)
	s, err := SplitDocuments(c, 0.6, 0.2, 42)
	require.NoError(t, err)
	dir := filepath.Join(t.TempDir(), "split")
	require.NoError(t, s.WriteFileLists(dir))
	back, err := ReadFileLists(dir, c)
	require.NoError(t, err)
	assert.Equal(t, ids(s.Train), ids(back.Train))
	assert.Equal(t, ids(s.Dev), ids(back.Dev))
	assert.Equal(t, ids(s.Test), ids(back.Test))

	// A document missing from the corpus, listed twice, or in no list.
	train := filepath.Join(dir, "train.txt")
	orig, err := os.ReadFile(train)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(train, append(orig, "nope\n"...), 0o644))
	_, err = ReadFileLists(dir, c)
	assert.ErrorContains(t, err, `document "nope" is not in the corpus`)
	require.NoError(t, os.WriteFile(train, append(orig, []byte(ids(s.Test)[0]+"\n")...), 0o644))
	_, err = ReadFileLists(dir, c)
	assert.ErrorContains(t, err, "already listed")
	require.NoError(t, os.WriteFile(train, nil, 0o644))
	_, err = ReadFileLists(dir, c)
	assert.ErrorContains(t, err, "is in no list")
	_, err = ReadFileLists(t.TempDir(), c)
	assert.ErrorContains(t, err, "train.txt")
}

func ExampleSplitDocuments() {
	c := groupedCorpus(10)
	s, _ := SplitDocuments(c, 0.6, 0.2, 42)
	fmt.Println(len(s.Train.Documents), len(s.Dev.Documents), len(s.Test.Documents))
	// Output: 6 2 2
}
