// Command biobertpt trains, evaluates and applies Portuguese clinical and
// biomedical BERT models (BioBERTpt, Schneider et al. 2020) on libtorch.
//
// Usage:
//
//	biobertpt <command> [flags]
//
// Run "biobertpt help" for the list of commands and "biobertpt <command> -h"
// for the flags of one command.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

func init() {
	// libtorch keeps grad mode, the last error and CUDA streams per OS thread:
	// all torch work happens on the main goroutine, pinned to one thread.
	runtime.LockOSThread()
}

// env is what a command reads and writes; tests substitute buffers.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand of biobertpt.
type command struct {
	name    string
	summary string
	run     func(e *env, args []string) error
}

// commands is filled by the cmd_*.go files of this package, one file a command.
var commands = map[string]command{}

func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("biobertpt: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

// errUsage marks an error whose message is a usage problem (exit status 2).
var errUsage = cli.ErrUsage

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: biobertpt %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// run executes one command line and returns the process exit status.
func run(e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "biobertpt: unknown command %q (run \"biobertpt help\")\n", args[0])
		return 2
	}
	return cli.Status("biobertpt "+c.name, runCommand(c, e, args[1:]), e.stderr)
}

// runCommand runs c, turning a panic that escaped the library (the patched
// gotch's Must* functions panic on a libtorch error) into an error, with
// the out-of-memory hint when an allocation failed.
func runCommand(c command, e *env, args []string) (err error) {
	defer func() {
		if err != nil {
			err = cli.WithOOMFlagHint(torchutil.WrapOOM(err, c.name))
		}
	}()
	defer torchutil.Recover(&err)
	return c.run(e, args)
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "biobertpt: Portuguese clinical and biomedical BERT (BioBERTpt) on libtorch")
	fmt.Fprintln(w, "\nusage: biobertpt <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"biobertpt <command> -h\" for a command's flags.")
}

// usagef returns a usage error (cli.Usagef, the message trimmed).
func usagef(format string, a ...any) error {
	return cli.Usagef("%s", strings.TrimSpace(fmt.Sprintf(format, a...)))
}

func main() {
	os.Exit(run(&env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:]))
}

// resolveModel points *model at the model directory it names: a model
// directory, a training run's output directory (its final/ or best/ model)
// or a Hub id (hub.Resolve).
func resolveModel(model *string) error {
	dir, err := hub.Resolve(context.Background(), *model, hub.Options{})
	if err != nil {
		return err
	}
	*model = dir
	return nil
}
