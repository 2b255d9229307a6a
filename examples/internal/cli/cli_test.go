package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
		out  string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{fmt.Errorf("parse: %w", flag.ErrHelp), 0, ""},
		{Usagef("-epochs must be > 0, got %d", 0), 2, "prog: usage: -epochs must be > 0, got 0\n"},
		{errors.New("boom"), 1, "prog: boom\n"},
	} {
		var b bytes.Buffer
		assert.Equal(t, tc.want, Status("prog", tc.err, &b))
		assert.Equal(t, tc.out, b.String())
	}
}
