//go:build biobertpt_cudashim

// CUDA shim for what gotch v0.9.1 does not wrap; compiled only with
// -tags biobertpt_cudashim. The libtorch headers must be on the include path
// (Debian: /usr/include, found by default; a Python torch:
// CGO_CXXFLAGS="-I$LIBTORCH/include"). The symbols resolve against the
// libtorch that gotch's libtch already links.
#include <ATen/Context.h>

#include <cstring>
#include <exception>

extern "C" int biobertpt_set_allow_tf32(int on, int* prev, char* msg, int msglen) {
  try {
    at::Context& ctx = at::globalContext();
    *prev = ctx.allowTF32CuBLAS() ? 1 : 0;
    ctx.setAllowTF32CuBLAS(on != 0);
    ctx.setAllowTF32CuDNN(on != 0);
    return 0;
  } catch (const std::exception& e) {
    std::strncpy(msg, e.what(), msglen - 1);
    msg[msglen - 1] = 0;
    return 1;
  }
}
