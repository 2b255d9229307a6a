package bert

import "github.com/biobertpt-go/biobertpt/internal/torchutil"

// Errors that callers branch on with errors.Is. Every package of the module
// (bert, ner, pretrain) wraps these same values, so a caller needs only bert's.
var (
	// ErrOutOfMemory is wrapped by every error reporting a failed
	// allocation (CPU or CUDA) or a peak over a memory cap. The message
	// says what ran (batch size, sequence length, device) or the bytes
	// over the cap; the usual remedy is a smaller batch with gradient
	// accumulation. IsOutOfMemory also recognises libtorch's raw messages.
	ErrOutOfMemory = torchutil.ErrOutOfMemory
	// ErrModelNotFound is wrapped when a model directory, its config.json,
	// its weights or its vocabulary does not exist.
	ErrModelNotFound = torchutil.ErrModelNotFound
	// ErrMismatch is wrapped when a vocabulary, a checkpoint or options do
	// not fit the model's config.json (vocab_size, max_position_embeddings,
	// a weight's shape).
	ErrMismatch = torchutil.ErrMismatch
	// ErrCancelled is wrapped, beside the context's own error
	// (context.Canceled or context.DeadlineExceeded), when work stops
	// because its context ended.
	ErrCancelled = torchutil.ErrCancelled
)

// IsOutOfMemory reports whether err wraps ErrOutOfMemory or carries one of
// libtorch's allocation-failure messages (an error from code that did not
// wrap it). IsOutOfMemory(nil) is false.
func IsOutOfMemory(err error) bool { return torchutil.IsOOM(err) }
