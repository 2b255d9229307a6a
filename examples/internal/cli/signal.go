package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// SignalContext returns a copy of parent that is cancelled by SIGINT
// (Ctrl-C) or SIGTERM (what timeout, Docker, Kubernetes and Slurm send),
// so that a long command finishes its step, saves its state and exits
// with an error that says so; context.Cause names the signal. Call stop
// when done.
func SignalContext(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}
