package torchutil

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// The sentinels that bert re-exports (bert.ErrModelNotFound, ...); they
// live here so that every package of the module can wrap them.
var (
	// ErrModelNotFound is wrapped when a model directory, its config.json,
	// its weights or its vocabulary does not exist.
	ErrModelNotFound = errors.New("model not found")
	// ErrMismatch is wrapped when inputs or options do not fit the model:
	// a vocabulary whose size differs from vocab_size, a sequence longer
	// than max_position_embeddings, weights whose shape differs from
	// config.json.
	ErrMismatch = errors.New("does not fit the model")
	// ErrCancelled is wrapped, beside ctx.Err(), when work stops because
	// its context was cancelled or its deadline passed.
	ErrCancelled = errors.New("cancelled")
)

// Cancelled returns an error that reads like err and wraps both
// ErrCancelled and err (context.Canceled or context.DeadlineExceeded);
// nil when err is nil.
func Cancelled(err error) error {
	if err == nil || errors.Is(err, ErrCancelled) {
		return err
	}
	return &cancelledError{err}
}

type cancelledError struct{ cause error }

func (e *cancelledError) Error() string   { return e.cause.Error() }
func (e *cancelledError) Unwrap() []error { return []error{ErrCancelled, e.cause} }

// CtxErr is Cancelled(ctx.Err()).
func CtxErr(ctx context.Context) error { return Cancelled(ctx.Err()) }

// NotFound wraps err with ErrModelNotFound when err says a file does not
// exist; other errors are returned as they are.
func NotFound(err error) error {
	if err == nil || !isNotExist(err) || errors.Is(err, ErrModelNotFound) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrModelNotFound, err)
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
