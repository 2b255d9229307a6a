package cli

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// A Rule constrains one flag's value; ParseFlags applies it after parsing.
// Build rules with AtLeast, Above, AtMost, Below, ZeroOrAtLeast, OneOf,
// Device and Check.
type Rule struct {
	flag  string
	check func(v any) string // "" when v is fine, else what is wanted
}

// number reads a numeric flag value as float64.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case time.Duration:
		return float64(x), true
	}
	return 0, false
}

func numeric(name string, ok func(x float64) bool, want string) Rule {
	return Rule{flag: name, check: func(v any) string {
		x, isNum := number(v)
		if !isNum {
			return "a number (the flag is not numeric)"
		}
		if math.IsNaN(x) || !ok(x) {
			return want
		}
		return ""
	}}
}

// fmtNum prints a bound without a trailing ".0" or an exponent for
// ordinary values.
func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// AtLeast requires flag's value (int, int64, uint, uint64, float64 or
// time.Duration) to be >= lo: "-batch 0: want >= 1".
func AtLeast(flag string, lo float64) Rule {
	return numeric(flag, func(x float64) bool { return x >= lo }, "want >= "+fmtNum(lo))
}

// Above requires flag's value to be > lo.
func Above(flag string, lo float64) Rule {
	return numeric(flag, func(x float64) bool { return x > lo }, "want > "+fmtNum(lo))
}

// AtMost requires flag's value to be <= hi.
func AtMost(flag string, hi float64) Rule {
	return numeric(flag, func(x float64) bool { return x <= hi }, "want <= "+fmtNum(hi))
}

// Below requires flag's value to be < hi.
func Below(flag string, hi float64) Rule {
	return numeric(flag, func(x float64) bool { return x < hi }, "want < "+fmtNum(hi))
}

// ZeroOrAtLeast requires flag's value to be 0 (a documented "default" or
// "off") or >= lo.
func ZeroOrAtLeast(flag string, lo float64) Rule {
	return numeric(flag, func(x float64) bool { return x == 0 || x >= lo }, "want 0 or >= "+fmtNum(lo))
}

// OneOf requires a string flag to be one of values (exactly).
func OneOf(flag string, values ...string) Rule {
	return Rule{flag: flag, check: func(v any) string {
		s, _ := v.(string)
		for _, w := range values {
			if s == w {
				return ""
			}
		}
		return "want " + orList(values)
	}}
}

// Device requires a string flag to name a device this libtorch can use:
// cpu, or cuda / cuda:N when the build and the machine have CUDA
// (torchutil.ParseDevice).
func Device(flag string) Rule {
	return Check(flag, func(v any) error {
		s, _ := v.(string)
		_, err := torchutil.ParseDevice(s)
		return err
	})
}

// Check is a rule with its own test: fn returns an error describing what
// is wrong with the flag's value, or nil.
func Check(flag string, fn func(v any) error) Rule {
	return Rule{flag: flag, check: func(v any) string {
		if err := fn(v); err != nil {
			return err.Error()
		}
		return ""
	}}
}

func orList(vs []string) string {
	switch len(vs) {
	case 0:
		return "nothing"
	case 1:
		return vs[0]
	}
	return strings.Join(vs[:len(vs)-1], ", ") + " or " + vs[len(vs)-1]
}

// An Alias is a flag.Value that sets another flag's value under a second
// name (-clip for -max-grad-norm). Rules name the flag an alias sets;
// ParseFlags names the alias in its error when the alias is what the
// command line gave.
type Alias interface {
	flag.Value
	// AliasOf is the name of the flag whose value the alias sets.
	AliasOf() string
}

// ParseFlags parses args into fs and then checks the values: every float64
// flag must be finite (flag parsing accepts "NaN" and "Inf"), and each rule
// must hold. A malformed or unknown flag, a non-finite number or a value
// that breaks a rule is a usage error (ErrUsage, exit status 2) naming the
// flag and its value: "-batch 0: want >= 1". -h returns flag.ErrHelp as
// fs.Parse does. Rules see the value whether or not the flag was given, so
// a bad default is caught too. A rule naming a flag fs does not define, or
// a custom flag.Value without Get, is reported as an error (a programming
// error, caught by the commands' tests).
func ParseFlags(fs *flag.FlagSet, args []string, rules ...Rule) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return Usagef("%v", err)
	}
	// given maps a flag set through its alias to the alias's name.
	given := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if a, ok := f.Value.(Alias); ok {
			given[a.AliasOf()] = f.Name
		}
	})
	fs.Visit(func(f *flag.Flag) { delete(given, f.Name) })
	name := func(f *flag.Flag) string {
		if a, ok := given[f.Name]; ok {
			return a
		}
		return f.Name
	}
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		if bad != nil {
			return
		}
		if g, ok := f.Value.(flag.Getter); ok {
			if x, isFloat := g.Get().(float64); isFloat && (math.IsNaN(x) || math.IsInf(x, 0)) {
				bad = Usagef("-%s %v: want a finite number", name(f), x)
			}
		}
	})
	if bad != nil {
		return bad
	}
	for _, r := range rules {
		f := fs.Lookup(r.flag)
		if f == nil {
			return fmt.Errorf("cli: rule for undefined flag -%s", r.flag)
		}
		g, ok := f.Value.(flag.Getter)
		if !ok {
			return fmt.Errorf("cli: rule for flag -%s, whose value has no Get method", r.flag)
		}
		if want := r.check(g.Get()); want != "" {
			return Usagef("-%s %s: %s", name(f), valueString(f), want)
		}
	}
	return nil
}

// valueString prints a flag's value for an error message; strings are
// quoted so that an empty one shows.
func valueString(f *flag.Flag) string {
	if g, ok := f.Value.(flag.Getter); ok {
		if s, isStr := g.Get().(string); isStr {
			return strconv.Quote(s)
		}
	}
	return f.Value.String()
}
