/* bbshim: what gotch v0.9.1 does not wrap (multi-tensor/fused AdamW, on-device
 * gradient clipping, TF32 switch, CUDA allocator statistics and memory
 * cap). Installed into
 * the patched gotch copy by biobertpt's internal/torchsetup. Every function
 * returns NULL on success or a malloc'ed error message the caller frees: no
 * C++ exception crosses the C boundary. Tensors are gotch's C handles
 * (torch::Tensor*). */
#ifndef BIOBERTPT_BBSHIM_H
#define BIOBERTPT_BBSHIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void *bbshim_tensor;

/* Linked libtorch version and build features. */
void bbshim_torch_version(int *major, int *minor, int *patch);
int bbshim_cuda_build(void);      /* compiled with -DBIOBERTPT_CUDA */
int bbshim_has_fused_adamw(void); /* at::_fused_adamw_ compiled in (libtorch >= 2.0) */
int bbshim_has_cuda_stats(void);  /* allocator statistics compiled in */
int bbshim_has_memory_fraction(void); /* allocator memory cap compiled in (same guard as the statistics) */

/* torch 1.13 _multi_tensor_adamw over n parameters, with decay[i] != 0 for
 * the weight-decay group: p *= decay_factor (decay group), m = m*b1 + g*(1-b1),
 * v = v*b2 + g*g*(1-b2), p += neg_step_size[i] * m / (sqrt(v)/bc2_sqrt[i] + eps). */
char *bbshim_adamw_foreach(bbshim_tensor *params, bbshim_tensor *grads, bbshim_tensor *exp_avgs,
                           bbshim_tensor *exp_avg_sqs, int n, const int *decay, double decay_factor,
                           const double *neg_step_size, const double *bc2_sqrt, double beta1,
                           double beta2, double eps);

/* torch 2.x _fused_adamw: steps (float32 0-dim tensors on the parameters'
 * device) are incremented by one, then at::_fused_adamw_ runs once per
 * weight-decay group (weight_decay for decay[i] != 0, else 0). */
char *bbshim_adamw_fused(bbshim_tensor *params, bbshim_tensor *grads, bbshim_tensor *exp_avgs,
                         bbshim_tensor *exp_avg_sqs, bbshim_tensor *steps, int n, const int *decay,
                         double lr, double beta1, double beta2, double weight_decay, double eps);

/* clip_grad_norm_(norm_type 2) without a host read: total = ||(||g_i||)||,
 * g_i *= min(1, max_norm / (total + 1e-6)); *out_norm is a new 0-dim tensor. */
char *bbshim_clip_grad_norm(bbshim_tensor *grads, int n, double max_norm, bbshim_tensor *out_norm);

/* *out = t.pin_memory() without the device argument (deprecated since
 * torch 2.4, where passing it prints a warning on every call); an error on
 * a libtorch without an accelerator. */
char *bbshim_pin_memory(bbshim_tensor t, bbshim_tensor *out);

/* grads[i].zero_() for all i as one _foreach_zero_ (zero_grad(set_to_none=False)). */
char *bbshim_zero(bbshim_tensor *grads, int n);

/* at::globalContext() TF32 switch for cuBLAS matmuls and cuDNN convolutions. */
char *bbshim_get_allow_tf32(int *on);
char *bbshim_set_allow_tf32(int on, int *prev);

/* CUDA caching allocator: out[0..3] = allocated current, allocated peak,
 * reserved current, reserved peak (bytes, all pools). */
char *bbshim_cuda_memory_stats(int device, int64_t *out);
char *bbshim_cuda_reset_peak(int device);

/* CUDA caching allocator cap: allocations that would take the device's
 * reserved memory above fraction * total fail with the allocator's
 * out-of-memory error (torch.cuda.set_per_process_memory_fraction).
 * fraction is in [0, 1]; 1 is the whole device. */
char *bbshim_cuda_set_memory_fraction(int device, double fraction);

/* *total = the device's total memory in bytes (cudaMemGetInfo, looked up
 * in the CUDA runtime libtorch has loaded). Initialises CUDA on device. */
char *bbshim_cuda_total_memory(int device, int64_t *total);

/* CUDA graphs (at::cuda::CUDAGraph) of a fixed-shape training step.
 * bbshim_graph_new makes a graph bound to a side stream of device;
 * enter makes that stream current on this thread (after it waits for the
 * previous current stream), leave restores the previous stream (which then
 * waits for the side stream). capture_begin/end record, between them, every
 * kernel this thread (and autograd's device threads) queue on the stream;
 * replay runs them again on the current stream's device. Compiled only
 * with the CUDA runtime headers (bbshim_has_graphs). */
int bbshim_has_graphs(void);
char *bbshim_graph_new(int device, void **out);
char *bbshim_graph_enter(void *g);
char *bbshim_graph_leave(void *g);
char *bbshim_graph_capture_begin(void *g);
char *bbshim_graph_capture_end(void *g);
char *bbshim_graph_replay(void *g);
void bbshim_graph_free(void *g);

#ifdef __cplusplus
}
#endif

#endif
