package ner

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestComputeStats(t *testing.T) {
	c := &Corpus{Scheme: IOBES, Documents: []Document{
		{ID: "a", Sentences: []Sentence{
			{Words: []string{"a", "b", "c"}, Tags: []string{"B-X", "E-X", "S-Y"}},
			{Words: []string{"d"}, Tags: []string{"O"}},
		}},
		{ID: "b", Sentences: []Sentence{
			{Words: []string{"e", "f"}, Tags: []string{"B-X", "I-X"}, Labels: [][]string{{"B-P"}, {"I-P", "B-Q"}}},
		}},
	}}
	st := ComputeStats(c)
	assert.Equal(t, Stats{Documents: 2, Sentences: 3, Tokens: 6, Entities: map[string]int{"X": 1, "Y": 1, "P": 1, "Q": 1}}, st)
	assert.Equal(t, 4, st.EntityTotal())
	b, err := json.Marshal(ComputeStats(nil))
	require.NoError(t, err)
	assert.JSONEq(t, `{"documents":0,"sentences":0,"tokens":0,"entities":{}}`, string(b))
}

func ExampleComputeStats() {
	c := &Corpus{Documents: []Document{{ID: "d", Sentences: []Sentence{
		{Words: []string{"Dor", "torácica", "."}, Tags: []string{"B-C", "I-C", "O"}},
	}}}}
	b, _ := json.Marshal(ComputeStats(c))
	fmt.Println(string(b))
	// Output: {"documents":1,"sentences":1,"tokens":3,"entities":{"C":1}}
}
