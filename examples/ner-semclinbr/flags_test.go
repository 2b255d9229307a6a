package main

import (
	"testing"

	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
)

// TestBadFlagValues: out-of-range, NaN and malformed values are usage
// errors naming the flag, for every numeric flag (cli.NERTrain.Rules).
func TestBadFlagValues(t *testing.T) {
	testutil.BadFlags(t, run, []testutil.BadFlag{
		{Args: []string{"-batch", "0"}, Want: "-batch 0: want >= 1"},
		{Args: []string{"-eval-batch", "0"}, Want: "-eval-batch 0: want >= 1"},
		{Args: []string{"-epochs", "0"}, Want: "-epochs 0: want >= 1"},
		{Args: []string{"-grad-accum", "-1"}, Want: "-grad-accum -1: want >= 1"},
		{Args: []string{"-log-steps", "-1"}, Want: "-log-steps -1: want >= 0"},
		{Args: []string{"-lr", "NaN"}, Want: "-lr NaN: want a finite number"},
		{Args: []string{"-lr", "0"}, Want: "-lr 0: want > 0"},
		{Args: []string{"-max-len", "-1"}, Want: "-max-len -1: want >= 3"},
		{Args: []string{"-max-memory", "-1"}, Want: "-max-memory -1: want >= 0"},
		{Args: []string{"-max-steps", "-1"}, Want: "-max-steps -1: want >= 0"},
		{Args: []string{"-save-steps", "-1"}, Want: "-save-steps -1: want >= 0"},
		{Args: []string{"-dist-timeout", "-1s"}, Want: "-dist-timeout -1s: want >= 0"},
		{Args: []string{"-train", "0"}, Want: "-train 0: want > 0"},
		{Args: []string{"-dev", "-0.2"}, Want: "-dev -0.2: want >= 0"},
		{Args: []string{"-train", "0.7", "-dev", "0.5"}, Want: "-dev 0.5: want -train + -dev <= 1"},
		{Args: []string{"-warmup-ratio", "2"}, Want: "-warmup-ratio 2: want <= 1"},
		{Args: []string{"-weight-decay", "-0.01"}, Want: "-weight-decay -0.01: want >= 0"},
		{Args: []string{"-device", "gpu"}, Want: `-device "gpu"`},
	}, "seed")
}
