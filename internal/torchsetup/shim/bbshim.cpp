// bbshim: see bbshim.h. Only per-operator ATen headers are included, so this
// file compiles in seconds (gotch's libtch wrapper takes minutes and is not
// touched by a change here).
#include "bbshim.h"

#include <ATen/Context.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_foreach_addcdiv.h>
#include <ATen/ops/_foreach_addcmul.h>
#include <ATen/ops/_foreach_div.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/_foreach_sqrt.h>
#include <ATen/ops/_foreach_zero.h>
#include <ATen/ops/stack.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR >= 2 && !defined(BBSHIM_NO_FUSED)
#define BBSHIM_FUSED_ADAMW 1
#include <ATen/ops/_fused_adamw.h>
#endif
#if (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)) && !defined(BBSHIM_NO_FOREACH_MUL_TENSOR)
#define BBSHIM_FOREACH_MUL_TENSOR 1 // _foreach_mul_.Tensor (torch >= 2.1)
#endif

#if defined(BIOBERTPT_CUDA) && defined(BIOBERTPT_CUDA_STATS) && !defined(BBSHIM_NO_GRAPHS)
#define BBSHIM_GRAPHS 1
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAStream.h>
#include <optional>
#endif

#if defined(BIOBERTPT_CUDA) && defined(BIOBERTPT_CUDA_STATS)
#include <ATen/ops/empty.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#endif

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

namespace {

char *dup(const char *s) {
  size_t n = std::strlen(s) + 1;
  char *p = static_cast<char *>(std::malloc(n));
  if (p != nullptr) std::memcpy(p, s, n);
  return p;
}

// guard runs f and turns any exception into a malloc'ed message.
template <typename F>
char *guard(F &&f) {
  try {
    f();
    return nullptr;
  } catch (const std::exception &e) {
    return dup(e.what());
  } catch (...) {
    return dup("bbshim: unknown C++ exception");
  }
}

#if defined(BIOBERTPT_CUDA) && defined(BIOBERTPT_CUDA_STATS)
// initCUDA makes sure CUDA and the caching allocator are initialised for
// device (setMemoryFraction asserts that they are; libtorch initialises them
// lazily on the first CUDA tensor): it allocates and frees one element.
void initCUDA(int device) {
  if (device < 0) throw std::runtime_error("bbshim: negative CUDA device index");
  at::empty({1}, at::TensorOptions().dtype(at::kFloat).device(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device))));
}
#endif

std::vector<at::Tensor> list(bbshim_tensor *ts, int n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (int i = 0; i < n; i++) {
    if (ts[i] == nullptr) throw std::runtime_error("bbshim: null tensor handle");
    out.push_back(*static_cast<at::Tensor *>(ts[i]));
  }
  return out;
}

}  // namespace

#ifdef BBSHIM_GRAPHS
namespace {
// graph is a CUDA graph with the side stream it is captured on and the
// stream that was current before enter.
struct graph {
  int device;
  c10::cuda::CUDAStream side;
  std::optional<c10::cuda::CUDAStream> prev;
  at::cuda::CUDAGraph g;
  bool captured = false;
  explicit graph(int d)
      : device(d), side(c10::cuda::getStreamFromPool(false, static_cast<c10::DeviceIndex>(d))) {}
};

graph *as_graph(void *p) {
  if (p == nullptr) throw std::runtime_error("bbshim: graph: null graph");
  return static_cast<graph *>(p);
}

// wait makes `waiter` wait for the work queued so far on `on`.
void wait(const c10::cuda::CUDAStream &waiter, const c10::cuda::CUDAStream &on) {
  at::cuda::CUDAEvent ev;
  ev.record(on);
  ev.block(waiter);
}
}  // namespace
#endif

extern "C" {

void bbshim_torch_version(int *major, int *minor, int *patch) {
  *major = TORCH_VERSION_MAJOR;
  *minor = TORCH_VERSION_MINOR;
  *patch = TORCH_VERSION_PATCH;
}

int bbshim_cuda_build(void) {
#ifdef BIOBERTPT_CUDA
  return 1;
#else
  return 0;
#endif
}

int bbshim_has_fused_adamw(void) {
#ifdef BBSHIM_FUSED_ADAMW
  return 1;
#else
  return 0;
#endif
}

int bbshim_has_cuda_stats(void) {
#if defined(BIOBERTPT_CUDA) && defined(BIOBERTPT_CUDA_STATS)
  return 1;
#else
  return 0;
#endif
}

int bbshim_has_memory_fraction(void) { return bbshim_has_cuda_stats(); }

char *bbshim_adamw_foreach(bbshim_tensor *params, bbshim_tensor *grads, bbshim_tensor *exp_avgs,
                           bbshim_tensor *exp_avg_sqs, int n, const int *decay, double decay_factor,
                           const double *neg_step_size, const double *bc2_sqrt, double beta1,
                           double beta2, double eps) {
  return guard([&] {
    if (n <= 0) return;
    at::NoGradGuard no_grad;
    auto p = list(params, n), g = list(grads, n), m = list(exp_avgs, n), v = list(exp_avg_sqs, n);
    std::vector<at::Tensor> pd;
    for (int i = 0; i < n; i++)
      if (decay[i]) pd.push_back(p[i]);
    std::vector<at::Scalar> step, bc2;
    step.reserve(n);
    bc2.reserve(n);
    for (int i = 0; i < n; i++) {
      step.emplace_back(neg_step_size[i]);
      bc2.emplace_back(bc2_sqrt[i]);
    }
    // torch 1.13 torch/optim/adamw.py _multi_tensor_adamw, amsgrad off.
    if (!pd.empty() && decay_factor != 1.0) at::_foreach_mul_(pd, decay_factor);
    at::_foreach_mul_(m, beta1);
    at::_foreach_add_(m, g, 1 - beta1);
    at::_foreach_mul_(v, beta2);
    at::_foreach_addcmul_(v, g, g, 1 - beta2);
    auto denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, bc2);
    at::_foreach_add_(denom, eps);
    at::_foreach_addcdiv_(p, m, denom, step);
  });
}

char *bbshim_adamw_fused(bbshim_tensor *params, bbshim_tensor *grads, bbshim_tensor *exp_avgs,
                         bbshim_tensor *exp_avg_sqs, bbshim_tensor *steps, int n, const int *decay,
                         double lr, double beta1, double beta2, double weight_decay, double eps) {
#ifdef BBSHIM_FUSED_ADAMW
  return guard([&] {
    if (n <= 0) return;
    at::NoGradGuard no_grad;
    auto p = list(params, n), g = list(grads, n), m = list(exp_avgs, n), v = list(exp_avg_sqs, n),
         s = list(steps, n);
    for (int group = 1; group >= 0; group--) {
      std::vector<at::Tensor> gp, gg, gm, gv, gs;
      for (int i = 0; i < n; i++) {
        if ((decay[i] != 0) != (group == 1)) continue;
        gp.push_back(p[i]);
        gg.push_back(g[i]);
        gm.push_back(m[i]);
        gv.push_back(v[i]);
        gs.push_back(s[i]);
      }
      if (gp.empty()) continue;
      // torch 2.x torch/optim/adamw.py _fused_adamw: steps += 1, then the kernel.
      at::_foreach_add_(gs, 1);
      std::vector<at::Tensor> none;
      at::_fused_adamw_(gp, gg, gm, gv, none, gs, lr, beta1, beta2, group == 1 ? weight_decay : 0.0,
                        eps, /*amsgrad=*/false, /*maximize=*/false);
    }
  });
#else
  return dup("bbshim: fused AdamW (at::_fused_adamw_) needs libtorch >= 2.0");
#endif
}

char *bbshim_clip_grad_norm(bbshim_tensor *grads, int n, double max_norm, bbshim_tensor *out_norm) {
  *out_norm = nullptr;
  return guard([&] {
    if (n <= 0) throw std::runtime_error("bbshim: clip_grad_norm: no gradients");
    at::NoGradGuard no_grad;
    auto g = list(grads, n);
    // torch 2.x torch/nn/utils/clip_grad.py with foreach=True.
    auto norms = at::_foreach_norm(g, 2);
    at::Tensor total = at::stack(norms).norm(2);
    at::Tensor coef = total.add(1e-6).reciprocal().mul_(max_norm).clamp_max_(1.0);
#ifdef BBSHIM_FOREACH_MUL_TENSOR
    at::_foreach_mul_(g, coef);
#else
    for (auto &t : g) t.mul_(coef);
#endif
    *out_norm = new at::Tensor(total);
  });
}

char *bbshim_pin_memory(bbshim_tensor t, bbshim_tensor *out) {
  *out = nullptr;
  return guard([&] {
    if (t == nullptr) throw std::runtime_error("bbshim: pin_memory: null tensor");
    const at::Tensor &x = *static_cast<at::Tensor *>(t);
    *out = new at::Tensor(x.pin_memory());
  });
}

char *bbshim_zero(bbshim_tensor *grads, int n) {
  return guard([&] {
    if (n <= 0) return;
    at::NoGradGuard no_grad;
    auto g = list(grads, n);
    at::_foreach_zero_(g);
  });
}

char *bbshim_get_allow_tf32(int *on) {
#ifdef BIOBERTPT_CUDA
  return guard([&] { *on = at::globalContext().allowTF32CuBLAS() ? 1 : 0; });
#else
  *on = 0;
  return dup("tf32 needs a CUDA libtorch");
#endif
}

char *bbshim_set_allow_tf32(int on, int *prev) {
#ifdef BIOBERTPT_CUDA
  return guard([&] {
    at::Context &ctx = at::globalContext();
    *prev = ctx.allowTF32CuBLAS() ? 1 : 0;
    ctx.setAllowTF32CuBLAS(on != 0);
    ctx.setAllowTF32CuDNN(on != 0);
  });
#else
  *prev = 0;
  return dup("tf32 needs a CUDA libtorch");
#endif
}

char *bbshim_cuda_memory_stats(int device, int64_t *out) {
#if defined(BIOBERTPT_CUDA) && defined(BIOBERTPT_CUDA_STATS)
  return guard([&] {
    // torch 2.x: index 0 of each StatArray is StatType::AGGREGATE (all pools).
    auto st = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    out[0] = st.allocated_bytes[0].current;
    out[1] = st.allocated_bytes[0].peak;
    out[2] = st.reserved_bytes[0].current;
    out[3] = st.reserved_bytes[0].peak;
  });
#elif defined(BIOBERTPT_CUDA)
  return dup("bbshim: CUDA allocator statistics not compiled in (no cuda_runtime_api.h found at setup)");
#else
  return dup("CUDA allocator statistics need a CUDA libtorch");
#endif
}

char *bbshim_cuda_reset_peak(int device) {
#if defined(BIOBERTPT_CUDA) && defined(BIOBERTPT_CUDA_STATS)
  return guard([&] {
    c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device));
  });
#elif defined(BIOBERTPT_CUDA)
  return dup("bbshim: CUDA allocator statistics not compiled in (no cuda_runtime_api.h found at setup)");
#else
  return dup("CUDA allocator statistics need a CUDA libtorch");
#endif
}

char *bbshim_cuda_set_memory_fraction(int device, double fraction) {
#if defined(BIOBERTPT_CUDA) && defined(BIOBERTPT_CUDA_STATS)
  return guard([&] {
    if (!(fraction >= 0.0 && fraction <= 1.0)) throw std::runtime_error("bbshim: memory fraction must be in [0, 1]");
    initCUDA(device);
    // torch.cuda.set_per_process_memory_fraction(fraction, device).
    c10::cuda::CUDACachingAllocator::setMemoryFraction(fraction, static_cast<c10::DeviceIndex>(device));
  });
#elif defined(BIOBERTPT_CUDA)
  return dup("bbshim: CUDA memory cap not compiled in (no cuda_runtime_api.h found at setup)");
#else
  return dup("the CUDA memory cap needs a CUDA libtorch");
#endif
}

char *bbshim_cuda_total_memory(int device, int64_t *total) {
  *total = 0;
#if defined(BIOBERTPT_CUDA) && defined(BIOBERTPT_CUDA_STATS)
  return guard([&] {
    initCUDA(device);
    // cudaMemGetInfo is looked up at run time in the CUDA runtime libtorch
    // loaded: linking libcudart directly would need its (versioned,
    // install-specific) file name at build time.
    using MemGetInfo = cudaError_t (*)(size_t *, size_t *);
    auto fn = reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
    if (fn == nullptr) throw std::runtime_error("bbshim: cudaMemGetInfo not found in the loaded CUDA runtime");
    c10::cuda::CUDAGuard on(static_cast<c10::DeviceIndex>(device));
    size_t free_b = 0, total_b = 0;
    cudaError_t rc = fn(&free_b, &total_b);
    if (rc != cudaSuccess)
      throw std::runtime_error("bbshim: cudaMemGetInfo failed with CUDA error " + std::to_string(static_cast<int>(rc)));
    *total = static_cast<int64_t>(total_b);
  });
#elif defined(BIOBERTPT_CUDA)
  return dup("bbshim: CUDA memory cap not compiled in (no cuda_runtime_api.h found at setup)");
#else
  return dup("the CUDA memory cap needs a CUDA libtorch");
#endif
}


#ifdef BBSHIM_GRAPHS
int bbshim_has_graphs(void) { return 1; }

char *bbshim_graph_new(int device, void **out) {
  *out = nullptr;
  return guard([&] {
    initCUDA(device);
    *out = new graph(device);
  });
}

char *bbshim_graph_enter(void *p) {
  return guard([&] {
    graph *g = as_graph(p);
    if (g->prev) throw std::runtime_error("bbshim: graph: already entered");
    auto cur = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(g->device));
    wait(g->side, cur);
    g->prev = cur;
    c10::cuda::setCurrentCUDAStream(g->side);
  });
}

char *bbshim_graph_leave(void *p) {
  return guard([&] {
    graph *g = as_graph(p);
    if (!g->prev) throw std::runtime_error("bbshim: graph: not entered");
    c10::cuda::CUDAStream prev = *g->prev;
    c10::cuda::setCurrentCUDAStream(prev);
    wait(prev, g->side);
    g->prev.reset();
  });
}

char *bbshim_graph_capture_begin(void *p) {
  return guard([&] {
    graph *g = as_graph(p);
    if (!g->prev) throw std::runtime_error("bbshim: graph: capture outside enter/leave (graphs are captured on a side stream)");
    if (g->captured) throw std::runtime_error("bbshim: graph: already captured");
    g->side.synchronize();
    g->g.capture_begin();
  });
}

char *bbshim_graph_capture_end(void *p) {
  return guard([&] {
    graph *g = as_graph(p);
    g->g.capture_end();
    g->captured = true;
  });
}

char *bbshim_graph_replay(void *p) {
  return guard([&] {
    graph *g = as_graph(p);
    if (!g->captured) throw std::runtime_error("bbshim: graph: replay before capture");
    g->g.replay();
  });
}

void bbshim_graph_free(void *p) { delete static_cast<graph *>(p); }
#else
// Without graphs every call fails with the reason.
static char *no_graphs() {
#ifdef BIOBERTPT_CUDA
  return dup("bbshim: CUDA graphs not compiled in (no cuda_runtime_api.h found at setup, or they did not compile)");
#else
  return dup("CUDA graphs need a CUDA libtorch");
#endif
}
int bbshim_has_graphs(void) { return 0; }
char *bbshim_graph_new(int, void **out) {
  *out = nullptr;
  return no_graphs();
}
char *bbshim_graph_enter(void *) { return no_graphs(); }
char *bbshim_graph_leave(void *) { return no_graphs(); }
char *bbshim_graph_capture_begin(void *) { return no_graphs(); }
char *bbshim_graph_capture_end(void *) { return no_graphs(); }
char *bbshim_graph_replay(void *) { return no_graphs(); }
void bbshim_graph_free(void *) {}
#endif

}  // extern "C"
