// Package torchsetup finds a libtorch installation and prepares a copy of
// github.com/sugarme/gotch that builds against it.
//
// gotch v0.9.1 targets libtorch 2.1 and hard-codes CUDA link flags. The
// machines this project runs on have Debian's libtorch-dev 1.13 (CPU) or a
// Python torch 2.x with CUDA. Detect looks, in order, at $LIBTORCH, at a
// Python torch install that ships its C++ headers and libraries, and at
// Debian's libtorch-dev (installing it with apt-get when allowed). Prepare
// copies gotch into a cache directory keyed by the install, rewrites the cgo
// flags of libtch/lib.go (include dirs, -L and -rpath, CPU-only or CUDA
// libraries, -std=c++17, -D_GLIBCXX_USE_CXX11_ABI), syntax-checks the C++
// wrappers with g++ and turns every generated wrapper that does not compile
// into one that throws "atg_X is not available in libtorch X.Y" — gotch
// returns that as an ordinary error, never a silently wrong result.
// Prepare also compiles the wrappers once into a static library in the
// copy (archiveLibtch). PointModule makes a module build against the copy
// with plain Go tooling: it requires gotch in go.mod, replaces it with the
// module-relative LocalDir (.biobertpt/gotch), writes that directory's
// committed skeleton (go.mod, .gitignore, one stub per package that fails
// to compile with an identifier naming SetupCommand) and fills it with the
// copy's Go packages, linking the library; everything it fills in is
// git-ignored. The command examples/setup (make setup) runs all of it.
//
// # Go-side patches
//
// Prepare also patches gotch's Go code (patchGoSide): ts.UseFinalizer
// switches gotch's tensor finalizers off, leaked C output slots and
// in-place handles are freed, and every log.Fatal in ts/ and nn/ (the Must*
// wrappers first of all) becomes a panic: log.Fatal(err) is panic(err), the
// other log.Fatal/log.Fatalf calls panic with an error holding their
// message. A libtorch error inside a Must* call (a CUDA out-of-memory in
// the forward pass, say) then reaches a deferred torchutil.Recover as an
// ordinary error instead of ending the process. Stock gotch still calls
// log.Fatal, so code keeps using the error-returning variants where user
// input reaches and keeps recovering. A change here bumps patchVersion,
// which re-prepares the copy in place (same path).
//
// # The bbshim package
//
// Prepare also installs a small C++ shim as an extra package of the copy,
// <copy>/bbshim (import path github.com/sugarme/gotch/bbshim), for what
// gotch does not wrap: a multi-tensor AdamW step (at::_foreach_*, libtorch
// ≥ 1.13), a fused one (at::_fused_adamw_, libtorch ≥ 2.0), gradient
// clipping that stays on the device (_foreach_norm, _foreach_mul_), zeroing
// all gradients at once (_foreach_zero_), the TF32
// switch (at::globalContext().setAllowTF32CuBLAS/CuDNN; CUDA builds only),
// the CUDA caching allocator's statistics (getDeviceStats /
// resetPeakStats) and its memory cap (setMemoryFraction, with the device's
// total memory from cudaMemGetInfo, looked up with dlsym in the CUDA
// runtime libtorch loaded); the statistics and the cap need a CUDA build
// whose CUDA runtime headers are found: $CUDA_HOME, $CUDA_PATH, pip's
// nvidia/*/include beside torch, /usr/local/cuda. Its sources are internal/torchsetup/shim (bbshim.cpp,
// bbshim.h, bbshim.go.in), embedded in this package; cgo_flags.go is
// generated like libtch/lib.go's flags for the install, plus
// -DBIOBERTPT_CUDA=1 on CUDA installs. Every C function returns NULL or a
// malloc'ed error message: no C++ exception crosses cgo.
//
// The shim is versioned by a hash of its sources and flags (State.ShimHash,
// and bbshim.Version in the installed Go file). patchVersion is not part of
// the copy's cache key, and a changed shim does not bump it: Prepare
// re-installs only the bbshim directory of an otherwise current copy, in
// place, so the copy's path, and with it Go's path-keyed cache of libtch's
// 18k-line C++ wrapper (minutes to compile), stays valid; only bbshim.cpp
// (about 10 s) is compiled again.
//
// # The bbdist package
//
// A second package of the copy, <copy>/bbdist (import path
// github.com/sugarme/gotch/bbdist; sources internal/torchsetup/distshim,
// embedded here), binds libtorch's torch.distributed (c10d): TCPStore,
// ProcessGroupGloo, ProcessGroupNCCL, their collectives and a bucketed
// gradient reducer; internal/dist builds on it. The c10d headers take
// about a minute to parse, so setup compiles bbdist.cpp once into
// <copy>/bbdist/libbbdist.a (the source then moves to src/, out of cgo's
// way) and the generated cgo_flags.go links it (-L${SRCDIR} -lbbdist
// before libtorch's libraries). planDist looks for the c10d headers, the
// gloo headers (the install's include dirs, then /usr/include; as root
// with a Debian libtorch and apt allowed, it installs libgloo-dev, the
// gloo Debian's libtorch is built against) and, on a CUDA install, nccl.h
// ($NCCL_HOME, $NCCL_ROOT, $NCCL_INCLUDE_DIR, pip's nvidia/nccl/include
// beside torch, the include dirs) and the CUDA runtime headers.
// installDist then tries gloo+nccl, gloo, nccl and none, in that order,
// keeping the first that compiles (-DUSE_C10D_GLOO -DBBDIST_GLOO=1,
// -DUSE_C10D_NCCL -DBBDIST_NCCL=1), links a small C program against and
// runs (a one-rank Gloo group when Gloo is in). The variant without
// backends includes no c10d header and always builds: its every call
// reports why, so a libtorch without c10d builds everything else and
// fails only when a distributed run is asked for. State.Dist records the
// hash (sources, install and what the plan found: installing libgloo-dev
// later triggers a rebuild), the backends and why one is missing; setup
// prints them as "distributed  gloo,nccl".
package torchsetup
