package cli

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSignalContext: SIGTERM cancels the context as SIGINT does, and the
// cause names the signal.
func TestSignalContext(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		ctx, stop := SignalContext(context.Background())
		require.NoError(t, syscall.Kill(syscall.Getpid(), sig))
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("%v did not cancel the context", sig)
		}
		assert.ErrorIs(t, ctx.Err(), context.Canceled)
		assert.Contains(t, context.Cause(ctx).Error(), sig.String())
		stop()
	}
}
