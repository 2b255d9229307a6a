package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/dist"
)

func init() {
	register(command{
		name:    "launch",
		summary: "run a command as N data-parallel processes on this machine (torchrun for one machine)",
		run:     runLaunch,
	})
}

const launchUsage = `-nproc N [-master-port P] [-kill-grace 30s] -- <command> [flags]

Starts N copies of <command> as the ranks of one distributed run on this
machine: each gets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
MASTER_ADDR=127.0.0.1 and MASTER_PORT (a free port unless -master-port),
and OMP_NUM_THREADS = CPUs / N unless set. <command> is a biobertpt command
(run by this binary) or any program. Every output line is prefixed with
"[rank k] ". SIGINT and SIGTERM are forwarded to every rank. When a rank
fails, the others get SIGTERM (SIGKILL after -kill-grace) and launch exits
non-zero naming the rank. Several machines: use torchrun or srun.
`

func runLaunch(e *env, args []string) error {
	fs := newFlags(e, "launch", launchUsage)
	nproc := fs.Int("nproc", 1, "number of processes (ranks), one per GPU on a GPU machine")
	port := fs.Int("master-port", 0, "rendezvous port on 127.0.0.1 (0: a free one)")
	grace := fs.Duration("kill-grace", 30*time.Second, "how long ranks may take to stop before they are killed")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("nproc", 1), cli.AtLeast("master-port", 0), cli.AtMost("master-port", 65535), cli.Above("kill-grace", 0)); err != nil {
		return err
	}
	cmd, err := launchCommand(fs.Args())
	if err != nil {
		return err
	}
	o := dist.DefaultLaunchOptions()
	o.NProc, o.Command, o.MasterPort, o.KillGrace = *nproc, cmd, *port, *grace
	o.Stdout, o.Stderr = e.stdout, e.stderr
	return dist.Launch(context.Background(), o)
}

// launchCommand is the command line each rank runs: a biobertpt command
// runs this binary, anything else is a program looked up in $PATH.
func launchCommand(args []string) ([]string, error) {
	if len(args) == 0 {
		return nil, usagef("no command: biobertpt launch -nproc N -- <command> [flags]")
	}
	if args[0] == "launch" {
		return nil, usagef("launch cannot launch itself")
	}
	if _, ok := commands[args[0]]; ok {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("launch: find this binary to run %q: %w", args[0], err)
		}
		return append([]string{exe}, args...), nil
	}
	return args, nil
}
