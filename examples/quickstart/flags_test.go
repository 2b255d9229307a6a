package main

import (
	"testing"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
)

// TestBadFlagValues: out-of-range, NaN and malformed values are usage
// errors naming the flag, for every numeric flag.
func TestBadFlagValues(t *testing.T) {
	testutil.BadFlags(t, run, []testutil.BadFlag{
		{Args: []string{"-batch", "-1"}, Want: "-batch -1: want >= 0"},
		{Args: []string{"-epochs", "-1"}, Want: "-epochs -1: want >= 0"},
		{Args: []string{"-heads", "0"}, Want: "-heads 0: want >= 1"},
		{Args: []string{"-hidden", "0"}, Want: "-hidden 0: want >= 1"},
		{Args: []string{"-intermediate", "0"}, Want: "-intermediate 0: want >= 1"},
		{Args: []string{"-layers", "0"}, Want: "-layers 0: want >= 1"},
		{Args: []string{"-lr", "-1"}, Want: "-lr -1: want >= 0"},
		{Args: []string{"-lr", "NaN"}, Want: "-lr NaN: want a finite number"},
		{Args: []string{"-max-len", "8"}, Want: "-max-len 8: want >= 16"},
		{Args: []string{"-pretrain-lr", "0"}, Want: "-pretrain-lr 0: want > 0"},
		{Args: []string{"-pretrain-steps", "-1"}, Want: "-pretrain-steps -1: want >= 0"},
		{Args: []string{"-device", "gpu"}, Want: `-device "gpu"`},
		{Args: []string{"-batch", "x"}, Want: `invalid value "x" for flag -batch`},
	}, "seed")
}
