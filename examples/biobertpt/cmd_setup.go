package main

import (
	"fmt"
	"strings"

	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/dist"
	"github.com/biobertpt-go/biobertpt/internal/torchsetup"
)

// distSummary is the torch.distributed backends this binary has, as
// setup's summary prints them: "gloo", "gloo,nccl", or "none (why)".
func distSummary() string {
	b, note := dist.BackendsCompiled()
	s := strings.Join(b, ",")
	if s == "" {
		s = "none"
	}
	if note != "" {
		s += " (" + note + ")"
	}
	return s
}

func init() {
	register(command{
		name:    "setup",
		summary: "check the libtorch install this binary was built for, and the devices it sees",
		run:     runSetupCmd,
	})
}

// runSetupCmd re-runs detection and the (idempotent) preparation of the
// patched gotch, then reports what the running binary sees. Preparing a
// new libtorch needs a rebuild: "make setup" (go run ./examples/setup).
func runSetupCmd(e *env, args []string) error {
	fs := newFlags(e, "setup", "[-no-apt]")
	noApt := fs.Bool("no-apt", false, "never run apt-get install")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(e.stderr, "setup: "+format+"\n", a...) }
	in, err := torchsetup.Detect(torchsetup.DetectOptions{AptInstall: !*noApt, Log: logf})
	if err != nil {
		return err
	}
	res, err := torchsetup.Prepare(in, torchsetup.PrepareOptions{Log: logf})
	if err != nil {
		return err
	}
	kind := "CPU"
	if in.CUDA {
		kind = "CUDA"
	}
	fmt.Fprintf(e.stdout, "libtorch   %s (%s, %s build) in %s\n", in.Version, in.Source, kind, in.LibDir)
	fmt.Fprintf(e.stdout, "gotch      %s patched copy %s (%d wrappers disabled)\n", torchsetup.GotchVersion, res.Dir, len(res.State.Stubbed))
	if !res.Reused {
		fmt.Fprintln(e.stdout, "note       the patched copy was prepared now: rebuild with 'make setup build' to use it")
	}
	devs := []string{"cpu"}
	if gotch.CUDA.IsAvailable() {
		for i := int64(0); i < gotch.CUDA.DeviceCount(); i++ {
			devs = append(devs, fmt.Sprintf("cuda:%d", i))
		}
	}
	fmt.Fprintf(e.stdout, "devices    %s\n", strings.Join(devs, " "))
	fmt.Fprintf(e.stdout, "distributed %s\n", distSummary())
	return nil
}
