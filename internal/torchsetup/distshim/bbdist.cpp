// bbdist: see bbdist.h. Compiled by setup into libbbdist.a with
// -DBBDIST_GLOO=1 -DUSE_C10D_GLOO (gloo headers found) and/or
// -DBBDIST_NCCL=1 -DUSE_C10D_NCCL (CUDA libtorch, CUDA and NCCL headers
// found); with neither, every entry point reports that no backend is
// compiled in, and the file includes nothing heavy.
#include "bbdist.h"

#include <torch/version.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(BBDIST_GLOO) || defined(BBDIST_NCCL)
#define BBDIST_ANY 1
#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <chrono>
#endif
#ifdef BBDIST_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef BBDIST_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace {

char *dup(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p != nullptr) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// clean drops the C++ backtrace that libtorch appends to its messages.
std::string clean(std::string s) {
  for (const char *cut : {"\nException raised from", "\nframe #0"}) {
    auto k = s.find(cut);
    if (k != std::string::npos) s.resize(k);
  }
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

#ifdef BBDIST_ANY
std::string message(const std::exception_ptr &p) {
  try {
    std::rethrow_exception(p);
  } catch (const c10::Error &e) {
    return clean(e.what_without_backtrace());
  } catch (const std::exception &e) {
    return clean(e.what());
  } catch (...) {
    return "unknown C++ exception";
  }
}
#else
std::string message(const std::exception_ptr &p) {
  try {
    std::rethrow_exception(p);
  } catch (const std::exception &e) {
    return clean(e.what());
  } catch (...) {
    return "unknown C++ exception";
  }
}
#endif

// guard runs f and turns any exception into a malloc'ed message.
template <typename F>
char *guard(F &&f) {
  try {
    f();
    return nullptr;
  } catch (...) {
    return dup(message(std::current_exception()));
  }
}

const char *kNoBackend =
    "no torch.distributed backend compiled in (setup found neither the gloo headers nor a CUDA "
    "libtorch with NCCL)";

}  // namespace

#ifdef BBDIST_ANY

#if TORCH_VERSION_MAJOR >= 2
using PG = c10d::Backend;  // ProcessGroupGloo/NCCL derive from Backend since torch 2.0
#else
using PG = c10d::ProcessGroup;
#endif

struct bbdist_group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<PG> pg;
  std::string backend;
  int rank = 0;
  int world = 1;
  at::Device device{at::kCPU};
  std::chrono::milliseconds timeout{0};
  std::string broken;  // the first collective's error; the group is unusable after it
};

struct bucket {
  std::vector<int> idx;       // parameter indices
  std::vector<int64_t> off;   // element offsets in buf
  at::Tensor buf;             // flat, dtype and device of its parameters
  int64_t bytes = 0;
};

struct bbdist_reducer {
  bbdist_group *g = nullptr;
  std::vector<at::Tensor> params;
  std::vector<bucket> buckets;
};

namespace {

bbdist_group *checked(bbdist_group *g) {
  if (g == nullptr) throw std::runtime_error("null process group");
  if (!g->broken.empty())
    throw std::runtime_error("process group unusable after an earlier error: " + g->broken);
  return g;
}

// collective runs f on g; an error marks g broken, so that a later call
// fails at once instead of waiting on peers that are gone.
template <typename F>
char *collective(bbdist_group *g, F &&f) {
  try {
    checked(g);
  } catch (...) {
    return dup(message(std::current_exception()));
  }
  try {
    f(g);
    return nullptr;
  } catch (...) {
    std::string m = message(std::current_exception());
    g->broken = m;
    return dup(m);
  }
}

std::vector<at::Tensor> list(bbdist_tensor *ts, int n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (int i = 0; i < n; i++) {
    if (ts[i] == nullptr) throw std::runtime_error("null tensor handle");
    out.push_back(*static_cast<at::Tensor *>(ts[i]));
  }
  return out;
}

// onDevice checks that t can take part in g's collectives.
void onDevice(bbdist_group *g, const at::Tensor &t, const char *what) {
  if (!t.defined()) throw std::runtime_error(std::string(what) + ": undefined tensor");
  if (g->backend == "nccl" && t.device() != g->device)
    throw std::runtime_error(std::string(what) + ": tensor on " + t.device().str() +
                             ", the NCCL group works on " + g->device.str());
  if (g->backend == "gloo" && !t.device().is_cpu() && !t.device().is_cuda())
    throw std::runtime_error(std::string(what) + ": Gloo cannot reduce a tensor on " + t.device().str());
}

void waitFor(bbdist_group *g, const c10::intrusive_ptr<c10d::Work> &w) {
  w->wait(g->timeout);
}

c10::intrusive_ptr<PG> makePG(const std::string &backend, const c10::intrusive_ptr<c10d::Store> &store,
                              int rank, int world, int device, std::chrono::milliseconds timeout,
                              const std::string &iface, const std::string &host, at::Device *dev) {
  if (backend == "gloo") {
#ifdef BBDIST_GLOO
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    opts->timeout = timeout;
    if (!iface.empty()) {
      size_t start = 0;
      while (start <= iface.size()) {
        size_t end = iface.find(',', start);
        if (end == std::string::npos) end = iface.size();
        std::string name = iface.substr(start, end - start);
        if (!name.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
        start = end + 1;
      }
    } else if (!host.empty()) {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
    } else {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    *dev = at::Device(at::kCPU);
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, opts);
#else
    throw std::runtime_error("the Gloo backend is not compiled in (setup found no gloo headers)");
#endif
  }
  if (backend == "nccl") {
#ifdef BBDIST_NCCL
    if (device < 0) throw std::runtime_error("NCCL needs a CUDA device index, got " + std::to_string(device));
    // A collective that outlives the timeout raises in wait() (blocking
    // wait) instead of being left to the watchdog; the user's setting wins.
    if (std::getenv("TORCH_NCCL_BLOCKING_WAIT") == nullptr && std::getenv("NCCL_BLOCKING_WAIT") == nullptr) {
      setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
      setenv("NCCL_BLOCKING_WAIT", "1", 0);
    }
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    *dev = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device));
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, opts);
#else
    (void)device;
    throw std::runtime_error("the NCCL backend is not compiled in (it needs a CUDA libtorch and the NCCL headers at setup)");
#endif
  }
  throw std::runtime_error("unknown backend \"" + backend + "\" (want gloo or nccl)");
}

// allgather gathers the n values of in (CPU) from every rank into out.
template <typename T>
void allgather(bbdist_group *g, const T *in, int n, T *out, at::ScalarType st) {
  if (n < 0) throw std::runtime_error("all-gather: negative length");
  if (n == 0) return;
  at::Tensor src = at::empty({n}, at::TensorOptions().dtype(st));
  std::memcpy(src.data_ptr(), in, sizeof(T) * n);
  if (g->backend == "nccl") src = src.to(g->device);
  std::vector<std::vector<at::Tensor>> outs(1);
  for (int r = 0; r < g->world; r++) outs[0].push_back(at::empty_like(src));
  std::vector<at::Tensor> ins{src};
  waitFor(g, g->pg->allgather(outs, ins));
  for (int r = 0; r < g->world; r++) {
    at::Tensor o = outs[0][r].cpu().contiguous();
    std::memcpy(out + static_cast<size_t>(r) * n, o.data_ptr(), sizeof(T) * n);
  }
}

struct key {
  at::ScalarType dtype;
  at::Device device;
  bool operator==(const key &o) const { return dtype == o.dtype && device == o.device; }
};

// assign groups tensor indices into buckets of at most cap bytes (the first
// of each dtype and device at most first) per dtype and device, visiting
// the indices in the given order.
std::vector<bucket> assign(const std::vector<at::Tensor> &ts, const std::vector<int> &order, int64_t first,
                           int64_t cap) {
  struct open {
    key k;
    bucket b;
    int closed = 0;
  };
  std::vector<open> opens;
  std::vector<bucket> out;
  for (int i : order) {
    const at::Tensor &t = ts[i];
    key k{t.scalar_type(), t.device()};
    open *o = nullptr;
    for (auto &x : opens)
      if (x.k == k) o = &x;
    if (o == nullptr) {
      opens.push_back(open{k, bucket{}, 0});
      o = &opens.back();
    }
    int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    int64_t limit = o->closed == 0 ? first : cap;
    if (!o->b.idx.empty() && o->b.bytes + bytes > limit) {
      out.push_back(std::move(o->b));
      o->b = bucket{};
      o->closed++;
      limit = cap;
    }
    o->b.idx.push_back(i);
    o->b.bytes += bytes;
    if (o->b.bytes >= limit) {
      out.push_back(std::move(o->b));
      o->b = bucket{};
      o->closed++;
    }
  }
  for (auto &x : opens)
    if (!x.b.idx.empty()) out.push_back(std::move(x.b));
  for (auto &b : out) {
    int64_t off = 0;
    for (int i : b.idx) {
      b.off.push_back(off);
      off += ts[i].numel();
    }
    b.buf = at::empty({off}, ts[b.idx[0]].options().requires_grad(false));
  }
  return out;
}

}  // namespace

extern "C" {

int bbdist_has_gloo(void) {
#ifdef BBDIST_GLOO
  return 1;
#else
  return 0;
#endif
}

int bbdist_has_nccl(void) {
#ifdef BBDIST_NCCL
  return 1;
#else
  return 0;
#endif
}

char *bbdist_group_new(const char *backend, const char *master_addr, int master_port, int store_server,
                       const char *store_prefix, int rank, int world, int device, int64_t timeout_ms,
                       const char *gloo_iface, const char *gloo_host, bbdist_group **out) {
  return guard([&] {
    *out = nullptr;
    if (world < 1 || rank < 0 || rank >= world)
      throw std::runtime_error("rank " + std::to_string(rank) + " of world size " + std::to_string(world));
    if (master_port <= 0 || master_port > 65535)
      throw std::runtime_error("master port " + std::to_string(master_port) + " out of range");
    if (timeout_ms <= 0) throw std::runtime_error("timeout must be positive");
    auto g = std::make_unique<bbdist_group>();
    g->backend = backend;
    g->rank = rank;
    g->world = world;
    g->timeout = std::chrono::milliseconds(timeout_ms);
    std::string addr = master_addr;
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(master_port);
      so.isServer = store_server != 0;
      so.numWorkers = static_cast<std::size_t>(world);
      so.waitWorkers = true;  // every rank counts itself in; the host waits for all (as torch)
      so.timeout = g->timeout;
      g->store = c10::make_intrusive<c10d::TCPStore>(addr, so);
      std::string prefix = store_prefix == nullptr ? "" : store_prefix;
      if (!prefix.empty()) g->store = c10::make_intrusive<c10d::PrefixStore>(prefix, g->store);
    } catch (...) {
      throw std::runtime_error("TCPStore rendezvous at " + addr + ":" + std::to_string(master_port) + " (" +
                               (store_server != 0 ? "hosted by this rank" : "hosted by rank 0 or the launcher") +
                               "): " + message(std::current_exception()));
    }
    try {
      g->pg = makePG(g->backend, g->store, rank, world, device, g->timeout, gloo_iface, gloo_host, &g->device);
    } catch (...) {
      throw std::runtime_error(g->backend + " process group (rank " + std::to_string(rank) + " of " +
                               std::to_string(world) + ", waiting for every rank to connect): " +
                               message(std::current_exception()));
    }
    *out = g.release();
  });
}

char *bbdist_group_new_single(const char *backend, int device, int64_t timeout_ms, bbdist_group **out) {
  return guard([&] {
    *out = nullptr;
    if (timeout_ms <= 0) throw std::runtime_error("timeout must be positive");
    auto g = std::make_unique<bbdist_group>();
    g->backend = backend;
    g->timeout = std::chrono::milliseconds(timeout_ms);
    g->store = c10::make_intrusive<c10d::HashStore>();
    g->pg = makePG(g->backend, g->store, 0, 1, device, g->timeout, "", "127.0.0.1", &g->device);
    *out = g.release();
  });
}

void bbdist_group_free(bbdist_group *g) {
  if (g == nullptr) return;
  try {
    g->pg.reset();
    g->store.reset();
  } catch (...) {
  }
  delete g;
}

char *bbdist_barrier(bbdist_group *g) {
  return collective(g, [&](bbdist_group *g) {
    if (g->backend == "nccl") {
      std::vector<at::Tensor> v{at::zeros({1}, at::TensorOptions().device(g->device))};
      waitFor(g, g->pg->allreduce(v));
      return;
    }
    waitFor(g, g->pg->barrier());
  });
}

char *bbdist_allreduce_sum(bbdist_group *g, bbdist_tensor *ts, int n) {
  return collective(g, [&](bbdist_group *g) {
    auto t = list(ts, n);
    std::vector<std::vector<at::Tensor>> args;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    args.reserve(t.size());
    for (auto &x : t) {
      onDevice(g, x, "all-reduce");
      if (!x.is_contiguous()) throw std::runtime_error("all-reduce: tensor is not contiguous");
      args.push_back({x});
      works.push_back(g->pg->allreduce(args.back()));
    }
    for (auto &w : works) waitFor(g, w);
  });
}

char *bbdist_broadcast(bbdist_group *g, bbdist_tensor *ts, int n, int root, int64_t bucket_bytes) {
  return collective(g, [&](bbdist_group *g) {
    if (root < 0 || root >= g->world) throw std::runtime_error("broadcast: root " + std::to_string(root) + " out of range");
    at::NoGradGuard no_grad;
    auto t = list(ts, n);
    std::vector<int> order(t.size());
    for (size_t i = 0; i < t.size(); i++) {
      onDevice(g, t[i], "broadcast");
      order[i] = static_cast<int>(i);
    }
    auto buckets = assign(t, order, bucket_bytes, bucket_bytes);
    c10d::BroadcastOptions o;
    o.rootRank = root;
    o.rootTensor = 0;
    for (auto &b : buckets) {
      if (g->rank == root)
        for (size_t k = 0; k < b.idx.size(); k++) {
          const at::Tensor &x = t[b.idx[k]];
          b.buf.narrow(0, b.off[k], x.numel()).view(x.sizes()).copy_(x);
        }
      std::vector<at::Tensor> v{b.buf};
      waitFor(g, g->pg->broadcast(v, o));
      if (g->rank != root)
        for (size_t k = 0; k < b.idx.size(); k++) {
          at::Tensor x = t[b.idx[k]];
          x.copy_(b.buf.narrow(0, b.off[k], x.numel()).view(x.sizes()));
        }
    }
  });
}

char *bbdist_allgather_i64(bbdist_group *g, const int64_t *in, int n, int64_t *out) {
  return collective(g, [&](bbdist_group *g) { allgather<int64_t>(g, in, n, out, at::kLong); });
}

char *bbdist_allgather_f64(bbdist_group *g, const double *in, int n, double *out) {
  return collective(g, [&](bbdist_group *g) { allgather<double>(g, in, n, out, at::kDouble); });
}

char *bbdist_reducer_new(bbdist_group *g, bbdist_tensor *params, int n, int64_t first_bucket_bytes,
                         int64_t bucket_bytes, bbdist_reducer **out) {
  return guard([&] {
    *out = nullptr;
    checked(g);
    if (first_bucket_bytes <= 0 || bucket_bytes <= 0) throw std::runtime_error("reducer: bucket sizes must be positive");
    auto r = std::make_unique<bbdist_reducer>();
    r->g = g;
    r->params = list(params, n);
    std::vector<int> order;
    for (int i = n - 1; i >= 0; i--) {
      onDevice(g, r->params[i], "reducer");
      order.push_back(i);
    }
    r->buckets = assign(r->params, order, first_bucket_bytes, bucket_bytes);
    *out = r.release();
  });
}

int bbdist_reducer_buckets(bbdist_reducer *r, int64_t *sizes, int64_t *counts) {
  if (r == nullptr) return 0;
  for (size_t k = 0; k < r->buckets.size(); k++) {
    if (sizes != nullptr) sizes[k] = r->buckets[k].bytes;
    if (counts != nullptr) counts[k] = static_cast<int64_t>(r->buckets[k].idx.size());
  }
  return static_cast<int>(r->buckets.size());
}

char *bbdist_reducer_sync(bbdist_reducer *r, int64_t *bytes) {
  if (r == nullptr) return dup("null reducer");
  return collective(r->g, [&](bbdist_group *g) {
    at::NoGradGuard no_grad;
    int64_t total = 0;
    std::vector<std::vector<at::Tensor>> args;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    args.reserve(r->buckets.size());
    for (auto &b : r->buckets) {
      for (size_t k = 0; k < b.idx.size(); k++) {
        const at::Tensor &p = r->params[b.idx[k]];
        at::Tensor slice = b.buf.narrow(0, b.off[k], p.numel());
        const at::Tensor &gr = p.grad();
        if (gr.defined())
          slice.view(gr.sizes()).copy_(gr);
        else
          slice.zero_();
      }
      if (g->world > 1) b.buf.div_(g->world);
      args.push_back({b.buf});
      works.push_back(g->pg->allreduce(args.back()));
      total += b.bytes;
    }
    for (size_t j = 0; j < works.size(); j++) {
      waitFor(g, works[j]);
      bucket &b = r->buckets[j];
      for (size_t k = 0; k < b.idx.size(); k++) {
        at::Tensor p = r->params[b.idx[k]];
        at::Tensor slice = b.buf.narrow(0, b.off[k], p.numel()).view(p.sizes());
        at::Tensor gr = p.grad();
        if (gr.defined())
          gr.copy_(slice);
        else
          p.mutable_grad() = slice.clone();
      }
    }
    if (bytes != nullptr) *bytes = total;
  });
}

void bbdist_reducer_free(bbdist_reducer *r) { delete r; }

}  // extern "C"

#else  // no backend: every entry point reports it

struct bbdist_group {};
struct bbdist_reducer {};

extern "C" {

int bbdist_has_gloo(void) { return 0; }
int bbdist_has_nccl(void) { return 0; }

char *bbdist_group_new(const char *, const char *, int, int, const char *, int, int, int, int64_t, const char *,
                       const char *, bbdist_group **out) {
  *out = nullptr;
  return dup(kNoBackend);
}
char *bbdist_group_new_single(const char *, int, int64_t, bbdist_group **out) {
  *out = nullptr;
  return dup(kNoBackend);
}
void bbdist_group_free(bbdist_group *) {}
char *bbdist_barrier(bbdist_group *) { return dup(kNoBackend); }
char *bbdist_allreduce_sum(bbdist_group *, bbdist_tensor *, int) { return dup(kNoBackend); }
char *bbdist_broadcast(bbdist_group *, bbdist_tensor *, int, int, int64_t) { return dup(kNoBackend); }
char *bbdist_allgather_i64(bbdist_group *, const int64_t *, int, int64_t *) { return dup(kNoBackend); }
char *bbdist_allgather_f64(bbdist_group *, const double *, int, double *) { return dup(kNoBackend); }
char *bbdist_reducer_new(bbdist_group *, bbdist_tensor *, int, int64_t, int64_t, bbdist_reducer **out) {
  *out = nullptr;
  return dup(kNoBackend);
}
int bbdist_reducer_buckets(bbdist_reducer *, int64_t *, int64_t *) { return 0; }
char *bbdist_reducer_sync(bbdist_reducer *, int64_t *) { return dup(kNoBackend); }
void bbdist_reducer_free(bbdist_reducer *) {}

}  // extern "C"

#endif

extern "C" void bbdist_torch_version(int *major, int *minor, int *patch) {
  *major = TORCH_VERSION_MAJOR;
  *minor = TORCH_VERSION_MINOR;
  *patch = TORCH_VERSION_PATCH;
}
