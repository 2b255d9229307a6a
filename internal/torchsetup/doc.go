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
// PointModule writes a go.work replace so that a module builds against the
// copy. The command internal/setup (make setup) runs all of it.
package torchsetup
