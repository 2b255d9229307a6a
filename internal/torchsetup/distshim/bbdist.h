/* bbdist: torch.distributed (c10d) process groups for biobertpt: a TCPStore
 * rendezvous, ProcessGroupGloo (CPU) and ProcessGroupNCCL (CUDA), the
 * collectives data-parallel training needs, and a bucketed gradient
 * all-reduce. Installed into the patched gotch copy by biobertpt's
 * internal/torchsetup, compiled once into libbbdist.a there (the c10d
 * headers take minutes to parse).
 *
 * Every function that can fail returns NULL on success or a malloc'ed
 * error message the caller frees: no C++ exception crosses the C boundary.
 * Tensors are gotch's C handles (torch::Tensor*). A group whose collective
 * failed (a peer died, a timeout) is broken: every later call on it
 * returns the first error again at once instead of waiting. */
#ifndef BIOBERTPT_BBDIST_H
#define BIOBERTPT_BBDIST_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void *bbdist_tensor;
typedef struct bbdist_group bbdist_group;
typedef struct bbdist_reducer bbdist_reducer;

/* Linked libtorch version and the backends compiled in. */
void bbdist_torch_version(int *major, int *minor, int *patch);
int bbdist_has_gloo(void); /* ProcessGroupGloo (-DUSE_C10D_GLOO, gloo headers) */
int bbdist_has_nccl(void); /* ProcessGroupNCCL (-DUSE_C10D_NCCL, CUDA and NCCL headers) */

/* bbdist_group_new joins a process group of `world` ranks as `rank`.
 * backend is "gloo" or "nccl". With store_server != 0 this rank hosts the
 * TCPStore on master_port (all interfaces): rank 0, unless a launcher's
 * agent hosts it (torchrun's static rendezvous); every rank connects to
 * master_addr:master_port, its keys under store_prefix when that is not
 * empty (torchrun's "/worker/attempt_N"). For Gloo,
 * gloo_iface (comma-separated interface names, GLOO_SOCKET_IFNAME) or else
 * gloo_host (a host name or address of this machine to bind) picks the
 * transport device; both empty: libtorch's default device (this host's
 * name). device is the CUDA device of an NCCL group (ignored for Gloo).
 * timeout_ms bounds the rendezvous and every collective. */
char *bbdist_group_new(const char *backend, const char *master_addr, int master_port, int store_server,
                       const char *store_prefix, int rank, int world, int device, int64_t timeout_ms,
                       const char *gloo_iface, const char *gloo_host, bbdist_group **out);
void bbdist_group_free(bbdist_group *g);

/* A rendezvous-free group of one rank (an in-memory HashStore), for
 * checking that a backend works. */
char *bbdist_group_new_single(const char *backend, int device, int64_t timeout_ms, bbdist_group **out);

char *bbdist_barrier(bbdist_group *g);

/* Sums each tensor over the ranks, in place, one collective per tensor
 * (all issued, then all waited for). */
char *bbdist_allreduce_sum(bbdist_group *g, bbdist_tensor *ts, int n);

/* Copies root's values of the n tensors into every rank's, in place: the
 * tensors are flattened into buckets of at most bucket_bytes per dtype and
 * device (one tensor larger than that is a bucket of its own), one
 * broadcast per bucket. Runs without grad mode, so parameters can be
 * given. */
char *bbdist_broadcast(bbdist_group *g, bbdist_tensor *ts, int n, int root, int64_t bucket_bytes);

/* out[r*n + i] = rank r's in[i]: every rank must pass the same n. */
char *bbdist_allgather_i64(bbdist_group *g, const int64_t *in, int n, int64_t *out);
char *bbdist_allgather_f64(bbdist_group *g, const double *in, int n, double *out);

/* A reducer averages the gradients of n parameters over the ranks. The
 * parameters are assigned to buckets in reverse order (the order backward
 * produces their gradients), per dtype and device: the first bucket holds
 * at most first_bucket_bytes, the others at most bucket_bytes (a parameter
 * larger than that gets a bucket of its own). Each bucket has a flat
 * buffer that lives as long as the reducer. */
char *bbdist_reducer_new(bbdist_group *g, bbdist_tensor *params, int n, int64_t first_bucket_bytes,
                         int64_t bucket_bytes, bbdist_reducer **out);
/* Number of buckets; sizes (may be NULL) receives each bucket's bytes and
 * counts (may be NULL) its number of parameters. */
int bbdist_reducer_buckets(bbdist_reducer *r, int64_t *sizes, int64_t *counts);
/* For each bucket in order: copy the gradients in (an undefined gradient
 * counts as zeros), divide by the world size, start the all-reduce; then
 * wait for each bucket and copy the averaged values back into the
 * gradients (an undefined gradient is set to a new tensor). The copy of
 * bucket k+1 overlaps the all-reduce of bucket k. *bytes = the bytes
 * all-reduced. */
char *bbdist_reducer_sync(bbdist_reducer *r, int64_t *bytes);
void bbdist_reducer_free(bbdist_reducer *r);

#ifdef __cplusplus
}
#endif

#endif
