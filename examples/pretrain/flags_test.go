package main

import (
	"testing"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
)

// TestBadFlagValues: out-of-range, NaN and malformed values are usage
// errors naming the flag, for every numeric flag.
func TestBadFlagValues(t *testing.T) {
	testutil.BadFlags(t, run, []testutil.BadFlag{
		{Args: []string{"-batch", "0"}, Want: "-batch 0: want >= 1"},
		{Args: []string{"-block-size", "2"}, Want: "-block-size 2: want >= 3"},
		{Args: []string{"-epochs", "0"}, Want: "-epochs 0: want >= 1"},
		{Args: []string{"-grad-accum", "0"}, Want: "-grad-accum 0: want >= 1"},
		{Args: []string{"-log-steps", "-1"}, Want: "-log-steps -1: want >= 0"},
		{Args: []string{"-lr", "0"}, Want: "-lr 0: want > 0"},
		{Args: []string{"-max-memory", "-1"}, Want: "-max-memory -1: want >= 0"},
		{Args: []string{"-max-steps", "-1"}, Want: "-max-steps -1: want >= 0"},
		{Args: []string{"-mlm-probability", "1.1"}, Want: "-mlm-probability 1.1: want <= 1"},
		{Args: []string{"-save-steps", "-1"}, Want: "-save-steps -1: want >= 0"},
		{Args: []string{"-save-total-limit", "-1"}, Want: "-save-total-limit -1: want >= 0"},
		{Args: []string{"-validation-fraction", "-0.1"}, Want: "-validation-fraction -0.1: want >= 0"},
		{Args: []string{"-warmup-ratio", "NaN"}, Want: "-warmup-ratio NaN: want a finite number"},
		{Args: []string{"-weight-decay", "-1"}, Want: "-weight-decay -1: want >= 0"},
		{Args: []string{"-workers", "-2"}, Want: "-workers -2: want >= 0"},
		{Args: []string{"-warmup-steps", "-1"}, Want: "-warmup-steps -1: want >= 0"},
		{Args: []string{"-max-grad-norm", "-1"}, Want: "-max-grad-norm -1: want >= 0"},
		{Args: []string{"-dist-timeout", "-1s"}, Want: "-dist-timeout -1s: want >= 0"},
		{Args: []string{"-device", "gpu"}, Want: `-device "gpu"`},
	}, "seed")
}
