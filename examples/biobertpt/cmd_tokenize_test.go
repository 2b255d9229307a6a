package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenizeCommand(t *testing.T) {
	vocab := filepath.Join("..", "..", "tokenize", "testdata", "mbert-cased", "vocab.txt")
	tests := []struct {
		name string
		args []string
		in   string
		want []tokenizeLine
	}{
		{"cased", []string{"-vocab", vocab}, "Paciente com dor\n[MASK] ação\n",
			[]tokenizeLine{
				{IDs: []int{101, 82376, 22847, 10212, 33518, 102}, Tokens: []string{"[CLS]", "Pac", "##iente", "com", "dor", "[SEP]"}, Offsets: [][2]int{{0, 0}, {0, 3}, {3, 8}, {9, 12}, {13, 16}, {0, 0}}},
				{IDs: []int{101, 103, 55176, 102}, Tokens: []string{"[CLS]", "[MASK]", "ação", "[SEP]"}, Offsets: [][2]int{{0, 0}, {0, 6}, {7, 11}, {0, 0}}},
			}},
		{"words", []string{"-vocab", vocab, "-words"}, "Paciente\tcom\tdor.\n",
			[]tokenizeLine{{IDs: []int{101, 82376, 22847, 10212, 33518, 119, 102}, Tokens: []string{"[CLS]", "Pac", "##iente", "com", "dor", ".", "[SEP]"},
				Offsets: [][2]int{{0, 0}, {0, 3}, {3, 8}, {0, 3}, {0, 3}, {3, 4}, {0, 0}}, WordIDs: []int{-1, 0, 0, 1, 2, 2, -1}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(&env{stdin: strings.NewReader(tc.in), stdout: &out, stderr: &errb}, append([]string{"tokenize"}, tc.args...))
			require.Equal(t, 0, code, errb.String())
			var got []tokenizeLine
			dec := json.NewDecoder(&out)
			for dec.More() {
				var l tokenizeLine
				require.NoError(t, dec.Decode(&l))
				got = append(got, l)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTokenizeCommandErrors(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, 2, run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{"tokenize"}))
	errb.Reset()
	assert.Equal(t, 1, run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{"tokenize", "-vocab", "/nonexistent/vocab.txt"}))
	assert.Contains(t, errb.String(), "/nonexistent/vocab.txt")
}
