// Package cli holds what the example programs share around their run
// functions: the exit-status convention and usage errors.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// ErrUsage marks a command-line error (exit status 2).
var ErrUsage = errors.New("usage")

// Usagef returns an error wrapping ErrUsage.
func Usagef(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}

// Main runs run with the process's arguments and streams and exits: 0 on
// success or -h, 2 on a usage error, 1 on any other error (printed as
// "name: error").
func Main(name string, run func(args []string, stdout, stderr io.Writer) error) {
	os.Exit(Status(name, run(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}

// Status reports err on stderr and returns the exit status Main uses.
func Status(name string, err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}
