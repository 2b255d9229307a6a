package main

import (
	"bytes"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// badFlagCases are command lines every command must refuse with a usage
// error (exit status 2) naming the flag, before reading any file: values
// out of range, NaN and ±Inf (which Go's flag package parses), malformed
// numbers, unknown devices and formats.
var badFlagCases = []struct {
	cmd  string
	args []string
	want string
}{
	{"bench", []string{"-batch", "0"}, "-batch 0: want >= 1"},
	{"bench", []string{"-seq", "1"}, "-seq 1: want >= 2"},
	{"bench", []string{"-steps", "0"}, "-steps 0: want >= 1"},
	{"bench", []string{"-warmup", "-1"}, "-warmup -1: want >= 0"},
	{"bench", []string{"-dropout", "-0.1"}, "-dropout -0.1: want >= 0"},
	{"bench", []string{"-dropout", "1"}, "-dropout 1: want < 1"},
	{"bench", []string{"-dropout", "NaN"}, "-dropout NaN: want a finite number"},
	{"bench", []string{"-soak", "-5"}, "-soak -5: want >= 0"},
	{"bench", []string{"-max-memory", "-1"}, "-max-memory -1: want >= 0"},
	{"bench", []string{"-max-memory", "Inf"}, "-max-memory +Inf: want a finite number"},
	{"bench", []string{"-device", "gpu"}, `-device "gpu": `},

	{"bench-serve", []string{"-requests", "0"}, "-requests 0: want >= 1"},
	{"bench-serve", []string{"-duration", "0s"}, "-duration 0s: want > 0"},
	{"bench-serve", []string{"-warmup", "-1"}, "-warmup -1: want >= 0"},
	{"bench-serve", []string{"-soak", "-1"}, "-soak -1: want >= 0"},
	{"bench-serve", []string{"-soak-clients", "0"}, "-soak-clients 0: want >= 1"},
	{"bench-serve", []string{"-soak-duration", "-1m"}, "-soak-duration -1m0s: want > 0"},
	{"bench-serve", []string{"-batch", "0"}, "-batch 0: want >= 1"},
	{"bench-serve", []string{"-max-len", "2"}, "-max-len 2: want 0 or >= 3"},
	{"bench-serve", []string{"-max-batch-tokens", "0"}, "-max-batch-tokens 0: want >= 1"},
	{"bench-serve", []string{"-max-batch-wait", "-1ms"}, "-max-batch-wait -1ms: want >= 0"},
	{"bench-serve", []string{"-device", "gpu"}, `-device "gpu": `},

	{"eval", []string{"-digits", "-1"}, "-digits -1: want >= 0"},
	{"eval", []string{"-digits", "99"}, "-digits 99: want <= 17"},
	{"eval", []string{"-zero-division", "0.5"}, "-zero-division 0.5: want 0 or 1"},
	{"eval", []string{"-zero-division", "NaN"}, "-zero-division NaN: want a finite number"},

	{"eval-ner", []string{"-batch", "0"}, "-batch 0: want >= 1"},
	{"eval-ner", []string{"-batch", "-3"}, "-batch -3: want >= 1"},
	{"eval-ner", []string{"-max-len", "-1"}, "-max-len -1: want 0 or >= 3"},
	{"eval-ner", []string{"-max-len", "2"}, "-max-len 2: want 0 or >= 3"},
	{"eval-ner", []string{"-device", "tpu"}, `-device "tpu": `},

	{"forward", []string{"-device", "cuda:x"}, `-device "cuda:x": `},

	{"launch", []string{"-nproc", "0", "--", "sh"}, "-nproc 0: want >= 1"},
	{"launch", []string{"-master-port", "65536", "--", "sh"}, "-master-port 65536: want <= 65535"},
	{"launch", []string{"-kill-grace", "0s", "--", "sh"}, "-kill-grace 0s: want > 0"},

	{"perplexity", []string{"-block-size", "2"}, "-block-size 2: want >= 3"},
	{"perplexity", []string{"-batch", "0"}, "-batch 0: want >= 1"},
	{"perplexity", []string{"-mlm-probability", "0"}, "-mlm-probability 0: want > 0"},
	{"perplexity", []string{"-mlm-probability", "1.5"}, "-mlm-probability 1.5: want <= 1"},
	{"perplexity", []string{"-mlm-probability", "nan"}, "-mlm-probability NaN: want a finite number"},
	{"perplexity", []string{"-device", ""}, `-device "": `},

	{"predict", []string{"-batch", "0"}, "-batch 0: want >= 1"},
	{"predict", []string{"-max-len", "-5"}, "-max-len -5: want 0 or >= 3"},
	{"predict", []string{"-format", "xml"}, `-format "xml": want json, jsonl, conll, brat or labelstudio`},
	{"predict", []string{"-device", "gpu"}, `-device "gpu": `},
	{"predict", []string{"-batch", "many"}, `invalid value "many" for flag -batch`},
	{"predict", []string{"-max-batch-tokens", "0"}, "-max-batch-tokens 0: want >= 1"},

	{"pretrain", []string{"-epochs", "0"}, "-epochs 0: want >= 1"},
	{"pretrain", []string{"-max-steps", "-1"}, "-max-steps -1: want >= 0"},
	{"pretrain", []string{"-batch", "0"}, "-batch 0: want >= 1"},
	{"pretrain", []string{"-dist-timeout", "-1s"}, "-dist-timeout -1s: want >= 0"},
	{"train-ner", []string{"-dist-timeout", "-1s"}, "-dist-timeout -1s: want >= 0"},
	{"pretrain", []string{"-grad-accum", "0"}, "-grad-accum 0: want >= 1"},
	{"pretrain", []string{"-lr", "0"}, "-lr 0: want > 0"},
	{"pretrain", []string{"-lr", "NaN"}, "-lr NaN: want a finite number"},
	{"pretrain", []string{"-warmup-ratio", "1.5"}, "-warmup-ratio 1.5: want <= 1"},
	{"pretrain", []string{"-warmup-steps", "-1"}, "-warmup-steps -1: want >= 0"},
	{"pretrain", []string{"-weight-decay", "-0.01"}, "-weight-decay -0.01: want >= 0"},
	{"pretrain", []string{"-max-grad-norm", "-1"}, "-max-grad-norm -1: want >= 0"},
	{"pretrain", []string{"-block-size", "0"}, "-block-size 0: want >= 3"},
	{"pretrain", []string{"-mlm-probability", "0"}, "-mlm-probability 0: want > 0"},
	{"pretrain", []string{"-validation-fraction", "1"}, "-validation-fraction 1: want < 1"},
	{"pretrain", []string{"-save-steps", "-1"}, "-save-steps -1: want >= 0"},
	{"pretrain", []string{"-save-total-limit", "-2"}, "-save-total-limit -2: want >= 0"},
	{"pretrain", []string{"-log-steps", "-1"}, "-log-steps -1: want >= 0"},
	{"pretrain", []string{"-max-memory", "-Inf"}, "-max-memory -Inf: want a finite number"},
	{"pretrain", []string{"-workers", "-1"}, "-workers -1: want >= 0"},
	{"pretrain", []string{"-device", "gpu"}, `-device "gpu": `},

	{"serve", []string{"-batch", "0"}, "-batch 0: want >= 1"},
	{"serve", []string{"-max-len", "-1"}, "-max-len -1: want 0 or >= 3"},
	{"serve", []string{"-max-batch-tokens", "0"}, "-max-batch-tokens 0: want >= 1"},
	{"serve", []string{"-max-batch-wait", "-1s"}, "-max-batch-wait -1s: want >= 0"},
	{"serve", []string{"-max-queue", "0"}, "-max-queue 0: want >= 1"},
	{"serve", []string{"-max-body", "0"}, "-max-body 0: want >= 1"},
	{"serve", []string{"-max-chars", "-1"}, "-max-chars -1: want >= 1"},
	{"serve", []string{"-max-docs", "0"}, "-max-docs 0: want >= 1"},
	{"serve", []string{"-max-queue", "10", "-max-docs", "11"}, "-max-docs 11: want <= -max-queue (10)"},
	{"serve", []string{"-shutdown-timeout", "0s"}, "-shutdown-timeout 0s: want > 0"},
	{"serve", []string{"-log-format", "xml"}, `-log-format "xml": want json, text or none`},
	{"serve", []string{"-device", "gpu"}, `-device "gpu": `},

	{"stats", []string{"-corpus", "conll", "-data", "none", "-split", "1.5,0.2"}, `-split "1.5,0.2": want 0 < train <= 1`},
	{"stats", []string{"-corpus", "conll", "-data", "none", "-split", "0.6,0.6"}, `-split "0.6,0.6": want`},
	{"stats", []string{"-corpus", "conll", "-data", "none", "-split", "NaN,0.2"}, `-split "NaN,0.2": want`},

	{"train-ner", []string{"-epochs", "0"}, "-epochs 0: want >= 1"},
	{"train-ner", []string{"-batch", "0"}, "-batch 0: want >= 1"},
	{"train-ner", []string{"-eval-batch", "0"}, "-eval-batch 0: want >= 1"},
	{"train-ner", []string{"-lr", "-3e-5"}, "-lr -3e-05: want > 0"},
	{"train-ner", []string{"-max-len", "-1"}, "-max-len -1: want >= 3"},
	{"train-ner", []string{"-stride", "-1"}, "-stride -1: want >= 0"},
	{"train-ner", []string{"-warmup-ratio", "-0.1"}, "-warmup-ratio -0.1: want >= 0"},
	{"train-ner", []string{"-weight-decay", "Inf"}, "-weight-decay +Inf: want a finite number"},
	{"train-ner", []string{"-clip", "-1"}, "-clip -1: want >= 0"},
	{"train-ner", []string{"-clip", "NaN"}, "-clip NaN: want a finite number"},
	{"train-ner", []string{"-max-grad-norm", "-1"}, "-max-grad-norm -1: want >= 0"},
	{"train-ner", []string{"-grad-accum", "0"}, "-grad-accum 0: want >= 1"},
	{"train-ner", []string{"-early-stopping", "-1"}, "-early-stopping -1: want >= 0"},
	{"train-ner", []string{"-max-steps", "-1"}, "-max-steps -1: want >= 0"},
	{"train-ner", []string{"-log-steps", "-1"}, "-log-steps -1: want >= 0"},
	{"train-ner", []string{"-save-steps", "-1"}, "-save-steps -1: want >= 0"},
	{"train-ner", []string{"-save-total-limit", "-1"}, "-save-total-limit -1: want >= 0"},
	{"train-ner", []string{"-max-memory", "-1"}, "-max-memory -1: want >= 0"},
	{"train-ner", []string{"-device", "gpu"}, `-device "gpu": `},
	{"train-ner", []string{"-corpus", "conll", "-data", "x", "-model", "m", "-out", "o", "-split", "0.6"}, `-split "0.6": want train,dev`},

	{"train-steps", []string{"-steps", "0"}, "-steps 0: want >= 1"},
	{"train-steps", []string{"-steps", "1", "-lr", "-1"}, "-lr -1: want >= 0"},
	{"train-steps", []string{"-steps", "1", "-warmup-steps", "-1"}, "-warmup-steps -1: want >= 0"},
	{"train-steps", []string{"-steps", "1", "-weight-decay", "-1"}, "-weight-decay -1: want >= 0"},
	{"train-steps", []string{"-steps", "1", "-clip", "NaN"}, "-clip NaN: want a finite number"},
	{"train-steps", []string{"-steps", "1", "-head", "base"}, `-head "base": want token-classification or mlm`},
	{"train-steps", []string{"-steps", "1", "-device", "gpu"}, `-device "gpu": `},
}

// anyValueFlags are numeric flags for which every value means something
// (seeds; tag columns, negative ones counting from the end).
var anyValueFlags = map[string]bool{"seed": true, "tag-col": true, "tag-column": true}

// TestBadFlagValues runs badFlagCases.
func TestBadFlagValues(t *testing.T) {
	for _, tc := range badFlagCases {
		t.Run(tc.cmd+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, append([]string{tc.cmd}, tc.args...))
			assert.Equal(t, 2, code, errb.String())
			assert.Contains(t, errb.String(), "biobertpt "+tc.cmd+": usage: ")
			assert.Contains(t, errb.String(), tc.want)
			assert.Empty(t, out.String())
		})
	}
}

// helpFlagRE matches a flag line of flag.PrintDefaults: "  -name type".
var helpFlagRE = regexp.MustCompile(`(?m)^  -([A-Za-z0-9-]+)(?: ([a-z0-9]+))?$`)

// numericFlags returns the int, uint, float and duration flags of a command
// from its -h output.
func numericFlags(t *testing.T, cmd string) []string {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{cmd, "-h"})
	require.Equal(t, 0, code, errb.String())
	var names []string
	for _, m := range helpFlagRE.FindAllStringSubmatch(errb.String(), -1) {
		switch m[2] {
		case "int", "uint", "float", "duration":
			names = append(names, m[1])
		}
	}
	return names
}

// TestEveryNumericFlagIsChecked: every numeric flag of every command has a
// case in badFlagCases (or takes any value, anyValueFlags). A new flag
// fails here until its range is declared (cli.ParseFlags rules) and tested.
func TestEveryNumericFlagIsChecked(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range badFlagCases {
		for _, a := range tc.args {
			if strings.HasPrefix(a, "-") && len(a) > 1 && (a[1] < '0' || a[1] > '9') {
				covered[tc.cmd+" "+a] = true
			}
		}
	}
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	total := 0
	for _, cmd := range names {
		for _, f := range numericFlags(t, cmd) {
			total++
			if !anyValueFlags[f] && !covered[cmd+" -"+f] {
				t.Errorf("biobertpt %s -%s: numeric flag without a bad-value case in badFlagCases: declare its range in the command's cli.ParseFlags rules and add a case", cmd, f)
			}
		}
	}
	assert.Greater(t, total, 50, "numeric flags found in the commands' help")
}
