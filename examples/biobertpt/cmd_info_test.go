package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInfoCommand(t *testing.T) {
	tests := []struct {
		dir  string
		want []string
	}{
		{"tiny/mlm", []string{"parameters:   20174 (", "architecture: BertForMaskedLM", "vocab 100, hidden 32, layers 2, heads 4, intermediate 37", "heads:        mlm (cls.predictions)\n"}},
		{"tiny/base", []string{"parameters:   20010 (", "heads:        pooler\n"}},
		{"tiny/token-classification", []string{"parameters:   19119 (", "token-classification (classifier, 5 outputs: O B-Disorder I-Disorder B-Procedure I-Procedure)"}},
		{"tiny-gelu-new/mlm", []string{"gelu_new, layer_norm_eps 1e-07", "type vocab 3"}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{"info", "-model", filepath.Join(bertTestdata, tc.dir)})
			require.Equal(t, 0, code, errb.String())
			for _, w := range tc.want {
				assert.Contains(t, out.String(), w)
			}
		})
	}
	var out, errb bytes.Buffer
	code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{"info", "-model", t.TempDir()})
	assert.Equal(t, 1, code)
	assert.Contains(t, errb.String(), "config.json")
}
