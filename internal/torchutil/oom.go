package torchutil

import (
	"errors"
	"strings"
)

// ErrOutOfMemory is wrapped by every error that reports a failed
// allocation (WrapOOM) or a -max-memory overrun (MemoryLimit.Check).
var ErrOutOfMemory = errors.New("out of memory")

// OOMHint is the advice every out-of-memory error carries; the product of
// batch size and accumulation steps is the effective batch, so the
// optimizer sees the same batch as before. It names no command-line flag:
// the commands add theirs (see examples/biobertpt).
const OOMHint = "reduce the batch size and use gradient accumulation"

// oomMarkers are substrings of libtorch's allocator failures: CUDA's
// caching allocator ("CUDA out of memory. Tried to allocate ..."), cuBLAS
// (CUBLAS_STATUS_ALLOC_FAILED) and the CPU allocator ("DefaultCPUAllocator:
// can't allocate memory", "not enough memory").
var oomMarkers = []string{"out of memory", "CUBLAS_STATUS_ALLOC_FAILED", "can't allocate memory", "not enough memory"}

// IsOOM reports whether err wraps ErrOutOfMemory or its message says that
// an allocation failed (IsOOMMessage). IsOOM(nil) is false.
func IsOOM(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, ErrOutOfMemory) || IsOOMMessage(err.Error())
}

// IsOOMMessage reports whether s holds one of libtorch's allocation-failure
// messages.
func IsOOMMessage(s string) bool {
	for _, m := range oomMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// WrapOOM returns err unchanged when it is nil, not an allocation failure
// (IsOOM false) or already wraps ErrOutOfMemory. Otherwise it returns an
// error that wraps both ErrOutOfMemory and err and reads
//
//	<what>: out of memory: <OOMHint>; libtorch: <first line of err>
//
// what says what ran, e.g. "ner: train step 12, batch 4 × 256 on cuda:0"
// (may be empty). Only the first line of err is kept: libtorch appends a
// C++ backtrace to some messages.
func WrapOOM(err error, what string) error {
	if err == nil || !IsOOM(err) || errors.Is(err, ErrOutOfMemory) {
		return err
	}
	return &oomError{what: what, cause: err}
}

// oomError is WrapOOM's error.
type oomError struct {
	what  string
	cause error
}

func (e *oomError) Error() string {
	msg, _, _ := strings.Cut(e.cause.Error(), "\n")
	s := ErrOutOfMemory.Error() + ": " + OOMHint + "; libtorch: " + strings.TrimSpace(msg)
	if e.what != "" {
		s = e.what + ": " + s
	}
	return s
}

func (e *oomError) Unwrap() []error { return []error{ErrOutOfMemory, e.cause} }
