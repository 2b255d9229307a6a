package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	newFS := func() *flag.FlagSet {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.Int("batch", 32, "")
		fs.Int64("seed", 42, "")
		fs.Uint64("useed", 1, "")
		fs.Float64("lr", 3e-5, "")
		fs.Float64("p", 0.15, "")
		fs.Duration("timeout", time.Second, "")
		fs.String("format", "json", "")
		fs.String("device", "cpu", "")
		fs.Int("max-len", 0, "")
		fs.Func("custom", "", func(string) error { return nil })
		return fs
	}
	rules := []Rule{
		AtLeast("batch", 1), Above("lr", 0), Above("p", 0), AtMost("p", 1), Below("useed", 10),
		AtLeast("timeout", float64(time.Millisecond)), OneOf("format", "json", "conll"), Device("device"),
		ZeroOrAtLeast("max-len", 3),
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // "" = no error
	}{
		{"defaults", nil, ""},
		{"good values", []string{"-batch", "1", "-lr", "1", "-p", "1", "-max-len", "3", "-format", "conll", "-device", "cpu"}, ""},
		{"int below", []string{"-batch", "0"}, "usage: -batch 0: want >= 1"},
		{"float not above", []string{"-lr", "0"}, "usage: -lr 0: want > 0"},
		{"float above max", []string{"-p", "1.5"}, "usage: -p 1.5: want <= 1"},
		{"uint not below", []string{"-useed", "10"}, "usage: -useed 10: want < 10"},
		{"duration", []string{"-timeout", "1us"}, "usage: -timeout 1µs: want >= 1e+06"},
		{"NaN on a ruled flag", []string{"-p", "NaN"}, "usage: -p NaN: want a finite number"},
		{"Inf on a ruled flag", []string{"-lr", "+Inf"}, "usage: -lr +Inf: want a finite number"},
		{"zero or at least: negative", []string{"-max-len", "-1"}, "usage: -max-len -1: want 0 or >= 3"},
		{"zero or at least: between", []string{"-max-len", "2"}, "usage: -max-len 2: want 0 or >= 3"},
		{"one of", []string{"-format", "xml"}, `usage: -format "xml": want json or conll`},
		{"device", []string{"-device", "gpu"}, `usage: -device "gpu": `},
		{"malformed number", []string{"-batch", "x"}, `usage: invalid value "x" for flag -batch`},
		{"unknown flag", []string{"-nope"}, "usage: flag provided but not defined: -nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ParseFlags(newFS(), tc.args, rules...)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrUsage)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("NaN on an unruled float flag", func(t *testing.T) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.Float64("x", 0, "")
		err := ParseFlags(fs, []string{"-x", "nan"})
		require.ErrorIs(t, err, ErrUsage)
		assert.EqualError(t, err, "usage: -x NaN: want a finite number")
	})
	t.Run("help", func(t *testing.T) {
		assert.ErrorIs(t, ParseFlags(newFS(), []string{"-h"}, rules...), flag.ErrHelp)
	})
	t.Run("rule for an undefined flag", func(t *testing.T) {
		err := ParseFlags(newFS(), nil, AtLeast("nope", 1))
		require.Error(t, err)
		assert.False(t, errors.Is(err, ErrUsage))
		assert.EqualError(t, err, "cli: rule for undefined flag -nope")
	})
	t.Run("rule for a flag without Get", func(t *testing.T) {
		err := ParseFlags(newFS(), nil, AtLeast("custom", 1))
		assert.EqualError(t, err, "cli: rule for flag -custom, whose value has no Get method")
	})
	t.Run("Check", func(t *testing.T) {
		even := Check("batch", func(v any) error {
			if v.(int)%2 != 0 {
				return errors.New("want an even number")
			}
			return nil
		})
		assert.EqualError(t, ParseFlags(newFS(), []string{"-batch", "3"}, even), "usage: -batch 3: want an even number")
		assert.NoError(t, ParseFlags(newFS(), []string{"-batch", "4"}, even))
	})
	t.Run("numeric rule on a string flag", func(t *testing.T) {
		err := ParseFlags(newFS(), nil, AtLeast("format", 1))
		assert.EqualError(t, err, `usage: -format "json": a number (the flag is not numeric)`)
	})
	t.Run("alias", func(t *testing.T) {
		newAliasFS := func() *flag.FlagSet {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			p := fs.Float64("max-grad-norm", 1, "")
			fs.Var(testAlias{p: p, of: "max-grad-norm"}, "clip", "")
			return fs
		}
		rule := AtLeast("max-grad-norm", 0)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"-clip", "-1"}, "usage: -clip -1: want >= 0"},
			{[]string{"-clip", "NaN"}, "usage: -clip NaN: want a finite number"},
			{[]string{"-max-grad-norm", "-1"}, "usage: -max-grad-norm -1: want >= 0"},
			{[]string{"-clip", "2", "-max-grad-norm", "-1"}, "usage: -max-grad-norm -1: want >= 0"},
		} {
			assert.EqualError(t, ParseFlags(newAliasFS(), tc.args, rule), tc.want, tc.args)
		}
		fs := newAliasFS()
		require.NoError(t, ParseFlags(fs, []string{"-clip", "0.5"}, rule))
		assert.Equal(t, "0.5", fs.Lookup("max-grad-norm").Value.String())
	})
}

// testAlias is an Alias of a float64 flag.
type testAlias struct {
	p  *float64
	of string
}

func (a testAlias) String() string {
	if a.p == nil {
		return "0"
	}
	return fmt.Sprint(*a.p)
}

func (a testAlias) Set(s string) error {
	_, err := fmt.Sscan(s, a.p)
	return err
}

func (a testAlias) AliasOf() string { return a.of }

func ExampleParseFlags() {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.Int("batch", 32, "windows per forward pass")
	fs.Float64("threshold", 0.5, "minimum score")
	err := ParseFlags(fs, []string{"-batch", "0"}, AtLeast("batch", 1))
	fmt.Println(err)
	err = ParseFlags(fs, []string{"-threshold", "NaN"}, AtLeast("batch", 1))
	fmt.Println(err)
	// Output:
	// usage: -batch 0: want >= 1
	// usage: -threshold NaN: want a finite number
}
