package testutil

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// BadFlag is a command line a program must refuse with a usage error whose
// message contains Want.
type BadFlag struct {
	Args []string
	Want string
}

// helpFlagRE matches a flag line of flag.PrintDefaults: "  -name type".
var helpFlagRE = regexp.MustCompile(`(?m)^  -([A-Za-z0-9-]+)(?: ([a-z0-9]+))?$`)

// NumericFlags returns the int, uint, float and duration flags that run
// lists for -h.
func NumericFlags(t testing.TB, run Run) []string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	_ = run([]string{"-h"}, &stdout, &stderr)
	var names []string
	for _, m := range helpFlagRE.FindAllStringSubmatch(stderr.String(), -1) {
		switch m[2] {
		case "int", "uint", "float", "duration":
			names = append(names, m[1])
		}
	}
	return names
}

// BadFlags checks every case with UsageError, and that every numeric flag
// of run (NumericFlags) has a case, unless listed in anyValue (flags for
// which every value means something, such as seeds).
func BadFlags(t *testing.T, run Run, cases []BadFlag, anyValue ...string) {
	t.Helper()
	covered := map[string]bool{}
	for _, v := range anyValue {
		covered["-"+v] = true
	}
	for _, c := range cases {
		t.Run(strings.Join(c.Args, " "), func(t *testing.T) {
			UsageError(t, run, c.Args, c.Want)
		})
		for _, a := range c.Args {
			covered[a] = true
		}
	}
	flags := NumericFlags(t, run)
	assert.NotEmpty(t, flags, "numeric flags in the -h output")
	for _, f := range flags {
		if !covered["-"+f] {
			t.Errorf("numeric flag -%s has no bad-value case: declare its range in cli.ParseFlags' rules and add a case", f)
		}
	}
}
