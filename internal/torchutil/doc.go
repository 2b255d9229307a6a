// Package torchutil holds the small pieces of libtorch plumbing that gotch
// v0.9.1 lacks or gets wrong for library use:
//
//   - ManualSeed, SetNumThreads and NumThreads call libtorch's
//     at::manual_seed, at::set_num_threads and at::get_num_threads through
//     the C symbols gotch's libtch already links (no extra flags).
//   - ParseDevice turns "cpu", "cuda" and "cuda:N" into a gotch.Device and
//     checks that the device exists.
//   - Recover turns a panic raised inside gotch into an error; in the
//     patched gotch copy (ts.MustPanics) that includes every Must*
//     failure, which stock gotch reports through log.Fatal.
//   - ErrOutOfMemory, OOMHint, IsOOM and WrapOOM are the out-of-memory
//     vocabulary: WrapOOM turns a libtorch allocation failure into an
//     error that says what ran, wraps ErrOutOfMemory and advises a smaller
//     -batch with -grad-accum.
//   - LimitMemory is -max-memory GiB: on CUDA it caps the caching
//     allocator (setMemoryFraction through bbshim, so allocations above the
//     cap fail as out-of-memory); MemoryLimit.Check, called once per
//     training step, compares the peak (CUDA: max_memory_reserved; CPU:
//     the process's peak resident set, VmHWM) with the cap and returns an
//     error wrapping ErrOutOfMemory when it is over. PeakMemory and
//     ResetPeakMemory read and reset those peaks; RSS, PeakRSS and
//     ResetPeakRSS the host's.
//   - NoGrad and SetGrad run a function with grad mode switched and restore
//     the previous mode afterwards, on a locked OS thread: libtorch keeps
//     grad mode per thread (at::GradMode is thread-local) and gotch's
//     ts.NoGrad always re-enables grad instead of restoring it.
//
// Thread rule: every goroutine doing tensor work must call
// runtime.LockOSThread (LockThread does, and returns the unlock) so that
// thread-local libtorch state follows it.
package torchutil
