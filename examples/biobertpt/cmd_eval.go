package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/metrics"
)

func init() {
	register(command{
		name:    "eval",
		summary: "score predicted tags against gold tags (conlleval/seqeval)",
		run:     runEval,
	})
}

const evalUsage = `[-format text|json|conlleval] [-scheme iob2|iob1|ioe1|ioe2|iobes|bilou] [-mode conlleval|default|strict] FILE

FILE (or - for stdin) is in conlleval's format: one token a line, fields
separated by white space, the last two the gold and the predicted tag, blank
lines between sentences. -mode conlleval (the default) follows conlleval.pl;
-mode default is seqeval's default mode (which also splits S-X S-X); -mode
strict is seqeval's strict mode for -scheme. -format conlleval prints
conlleval.pl's report byte for byte and needs -mode conlleval.`

func runEval(e *env, args []string) error {
	fs := newFlags(e, "eval", evalUsage)
	format := fs.String("format", "text", "output: text (seqeval's classification_report), json, or conlleval")
	schemeName := fs.String("scheme", "iob2", "tagging scheme: iob2, iob1, ioe1, ioe2, iobes, bilou")
	modeName := fs.String("mode", "conlleval", "chunking rules: conlleval, default (seqeval's), strict")
	digits := fs.Int("digits", 2, "decimals of the text report")
	zeroDiv := fs.Float64("zero-division", 0, "value of a precision or recall whose denominator is 0 (0 or 1)")
	delim := fs.String("d", "", "field delimiter (conlleval -d); default: white space")
	raw := fs.Bool("r", false, "raw tags without B-/I- prefixes, one token a chunk (conlleval -r)")
	oTag := fs.String("o", "O", "outside tag of raw input (conlleval -o)")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("digits", 0), cli.AtMost("digits", 17), zeroOrOne("zero-division")); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("eval takes one FILE (or -), got %d arguments", fs.NArg())
	}
	scheme, err := metrics.ParseScheme(*schemeName)
	if err != nil {
		return usagef("%v", err)
	}
	mode, err := metrics.ParseMode(*modeName)
	if err != nil {
		return usagef("%v", err)
	}
	if *format != "text" && *format != "json" && *format != "conlleval" {
		return usagef("-format %q: want text, json or conlleval", *format)
	}
	if *format == "conlleval" && mode != metrics.Conlleval {
		return usagef("-format conlleval needs -mode conlleval")
	}
	opts := metrics.Options{Scheme: scheme, Mode: mode, ZeroDivision: *zeroDiv}
	if err := opts.Validate(); err != nil {
		return usagef("%v", err)
	}

	name := fs.Arg(0)
	var in io.Reader = e.stdin
	if name == "-" {
		name = "<stdin>"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	corpus, err := metrics.ReadConll(in, name, metrics.ConllOptions{Delimiter: *delim, Raw: *raw, OTag: *oTag})
	if err != nil {
		return err
	}
	if *format == "conlleval" {
		return metrics.WriteConlleval(e.stdout, corpus)
	}
	var rep *metrics.Report
	if mode == metrics.Conlleval {
		rep = metrics.ConllevalReport(corpus, opts)
	} else if rep, err = metrics.Evaluate(corpus.Gold(), corpus.Pred(), opts); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if *format == "json" {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	return rep.WriteText(e.stdout, *digits)
}

// zeroOrOne requires a float flag to be 0 or 1.
func zeroOrOne(flag string) cli.Rule {
	return cli.Check(flag, func(v any) error {
		if x, _ := v.(float64); x != 0 && x != 1 {
			return errors.New("want 0 or 1")
		}
		return nil
	})
}
