package main

import (
	"testing"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
)

// TestBadFlagValues: out-of-range, NaN and malformed values are usage
// errors naming the flag, for every numeric flag.
func TestBadFlagValues(t *testing.T) {
	testutil.BadFlags(t, run, []testutil.BadFlag{
		{Args: []string{"-alpha", "0"}, Want: "-alpha 0: want > 0"},
		{Args: []string{"-alpha", "NaN"}, Want: "-alpha NaN: want a finite number"},
		{Args: []string{"-bootstrap", "0"}, Want: "-bootstrap 0: want >= 1"},
		{Args: []string{"-confidence", "1"}, Want: "-confidence 1: want < 1"},
		{Args: []string{"-seed", "-1"}, Want: `invalid value "-1" for flag -seed`},
	})
}
