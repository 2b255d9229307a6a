// Package torchsetup finds a libtorch installation and prepares a copy of
// github.com/sugarme/gotch that builds against it: Detect finds the
// install ($LIBTORCH, a Python torch with its C++ headers, Debian's
// libtorch-dev), Prepare makes the patched copy and PointModule makes a
// module build against it with plain Go tooling. The command
// examples/setup (make setup) runs all of it.
//
// Contract:
//   - The copy lives in a cache directory keyed by the install; PointModule
//     replaces gotch in go.mod with the module-relative LocalDir
//     (.biobertpt/gotch) and fills it with git-ignored files. Before setup
//     runs, its committed stubs fail to compile with an identifier naming
//     SetupCommand.
//   - A gotch wrapper that libtorch X.Y lacks returns the error "atg_X is
//     not available in libtorch X.Y": never a silently wrong result.
//   - In the copy, every log.Fatal of gotch's ts/ and nn/ (the Must*
//     wrappers first of all) panics instead, so a deferred
//     torchutil.Recover turns a libtorch error into an ordinary error; code
//     still uses the error-returning variants where user input reaches.
//     ts.UseFinalizer switches gotch's tensor finalizers off, and leaked
//     C output slots and in-place handles are freed.
//   - Two extra packages of the copy bind what gotch does not wrap: bbshim
//     (foreach and fused AdamW, device-side clipping, TF32, the CUDA
//     allocator's statistics and cap) and bbdist (c10d: TCPStore, Gloo,
//     NCCL, the gradient reducer). No C++ exception crosses cgo. bbdist
//     always builds; a backend it lacks fails only when a distributed run
//     asks for it (State.Dist says why).
//   - Changing the Go-side patches bumps patchVersion and a changed shim
//     reinstalls only bbshim, both in place, so Go's cache of libtch's C++
//     wrapper stays valid.
//
// docs/TORCHSETUP.md has the detection order, the cgo flags, the patches,
// the shims' sources and build, and how the backends are found.
package torchsetup
