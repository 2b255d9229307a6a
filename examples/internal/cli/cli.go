package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
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

// NewFlagSet returns a flag set named name that reports errors on stderr
// instead of exiting; -h prints usage, then the flags' defaults.
func NewFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// ModelName is name, or when name is empty the last element of model (a
// Hub id or a directory): the model's name in results.json.
func ModelName(name, model string) string {
	if name != "" {
		return name
	}
	return filepath.Base(strings.TrimRight(model, "/"+string(filepath.Separator)))
}

// WriteJSON writes v as indented JSON, newline-terminated, to path,
// atomically (atomicfile.WriteBytes): path is the old file or the complete
// new one, never a partial one.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// OOMFlagHint is what the commands add to an out-of-memory error: the
// library's error says what ran and advises a smaller batch with gradient
// accumulation in its own terms; this names the flags that do it.
const OOMFlagHint = "flags: a smaller -batch with a larger -grad-accum keeps the effective batch; -eval-batch sizes evaluation; -max-memory sets the cap"

// WithOOMFlagHint returns err with OOMFlagHint appended on a line of its
// own when err reports an out-of-memory condition (torchutil.IsOOM), else
// err unchanged; errors.Is still sees everything err wraps.
func WithOOMFlagHint(err error) error {
	if !torchutil.IsOOM(err) {
		return err
	}
	return fmt.Errorf("%w\n%s", err, OOMFlagHint)
}
