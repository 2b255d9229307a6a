// Package bench measures the training throughput and peak memory of this
// library's BERT exactly as the HuggingFace reference script does
// (../shared/bench/hf_bench.py, issue 7), so that the two can be run side
// by side and their JSON lines compared field by field.
//
// # The step
//
// One training step is, as in hf_bench.py:
//
//	loss = model.Loss(batch)            forward + mean cross-entropy over labels ≠ -100
//	loss.backward()
//	clip_grad_norm_(params, 1.0)
//	AdamW(lr 5e-5, β 0.9/0.999, ε 1e-8, weight decay 0.01 except biases and LayerNorm weights).step()
//	zero_grad()
//
// The batch is built once and reused every step. Timing: Warmup untimed
// steps, a device synchronize (CUDA), Steps timed steps, a synchronize, then
//
//	ms_per_step  = elapsed / Steps · 1000            (rounded to 3 decimals)
//	tokens_per_s = Batch · Seq / (ms_per_step / 1000) (rounded to 1 decimal)
//
// Differences from the HF step, all reported in the JSON: the optimizer is
// internal/optim's AdamW with Options.AdamW's kernel ("optim": fused on CUDA
// with libtorch ≥ 2.0 by default, as HF's fused AdamW; foreach elsewhere);
// zero_grad zeroes gradients in place instead of setting them to None; the
// MLM loss projects only the labelled positions onto the vocabulary (the
// loss value is the same). Clipping uses optim.ClipGradNormDevice, whose
// norm stays on the device, and the per-step loss is not read (as in HF);
// bert checks label values only for CPU label tensors, so an NER step on
// CUDA makes no device→host read. The MLM step neither: its flat labelled
// positions are computed on the host from the batch (Batch.MaskedPositions)
// and passed to bert.ForMaskedLM.LossAt, which index_selects them without
// nonzero.
//
// # The batch
//
// MakeBatch follows hf_bench.py's make_batch: input ids uniform in
// [1000, V) with [CLS] = 101 first and [SEP] = 102 last, attention mask all
// ones, token types all zeros. NER labels are uniform over NumLabels = 27
// classes (13 entity types in IOB2 plus O) at every position. MLM selects
// each position with probability 0.15 (after [CLS]/[SEP] are placed, so they
// may be selected), labels it with its id, and replaces the id by
// [MASK] = 103; other labels are -100. Vocabularies of at most 2000 ids (the
// tiny test config) use [4, V) and 1, 2, 3 instead.
//
// # Memory
//
// On CUDA, peak_mem_gib is torch.cuda.max_memory_allocated() and
// peak_reserved_gib max_memory_reserved(), read through the bbshim package
// that examples/setup installs into the patched gotch (the peak is reset
// before the model is built and read after the timed steps, as
// hf_bench.py does; peak_mem_kind "cuda_max_memory_allocated"). When the
// shim was built without the allocator statistics (no CUDA runtime headers
// at setup) both are null and peak_mem_kind says why. gpu_process_mem_gib
// is the process's GPU memory as nvidia-smi reports it after the timed
// steps (about peak reserved plus the CUDA context), null when nvidia-smi
// cannot see the process. On CPU,
// peak_mem_gib is the process's peak resident set (VmHWM in
// /proc/self/status), reset before the model is built by writing 5 to
// /proc/self/clear_refs, as HF resets the CUDA peak before building.
//
// Out of memory: a step that fails with an allocator out-of-memory message
// is returned as an error that wraps torchutil.ErrOutOfMemory, names the
// run (task, batch × seq, device) and carries torchutil.OOMHint
// (torchutil.WrapOOM). That includes failures inside the model's forward
// pass, where gotch's Must* functions run: the patched gotch copy makes
// them panic, and Run recovers. With stock gotch they end the process
// through log.Fatal; OOMHintWriter appends the hint to that last log line.
//
// Options.MaxMemoryGiB (-max-memory) caps the device's memory through
// torchutil.LimitMemory, set right after the peak is reset, before the
// model is built: on CUDA the caching allocator refuses to reserve beyond
// it (setMemoryFraction), so a step that needs more fails as out of
// memory; after the timed steps MemoryLimit.Check compares the peak
// (CUDA: max_memory_reserved; CPU: VmHWM) with the cap and fails the run
// with an error wrapping torchutil.ErrOutOfMemory when it is over. The
// JSON line reports the cap as max_memory_gib (null without one).
//
// # Precision
//
// fp32 runs with libtorch's default matmul precision ("highest"; on CUDA
// builds TF32 is switched off explicitly). tf32 sets
// at::globalContext().setAllowTF32CuBLAS/CuDNN through bbshim (restored
// after the run); it needs a CUDA libtorch (ErrNoTF32 otherwise) and a CUDA
// device.
// bf16 is bert.PrecisionBF16: float32 master weights (the optimizer,
// clipping and gradients see float32), linear layers and attention matmuls
// in bf16 with each weight cast once per forward pass, LayerNorm, softmax
// and the loss in float32 (torch.autocast's rules, made explicit because
// gotch wraps no autocast). matmul_precision stays "highest" for the float32
// part. HF's bf16 column is torch.autocast, so the two compute the same
// ops in the same dtypes.
// fp16 is bert.PrecisionFP16 (the same casts, to float16) with dynamic
// loss scaling: the step multiplies the loss by an optim.GradScaler's scale
// (torch.cuda.amp.GradScaler's defaults, 2¹⁶ at first), unscales the
// gradients before clipping, skips clipping and AdamW when a gradient
// overflowed, and updates the scale, reading one found-inf flag back per
// step as torch's scaler.step does. It needs a CUDA device: a CPU run
// returns bert.ErrFP16NeedsCUDA before building the model.
//
// # Other levers
//
// QKV chooses the attention's query/key/value projection ("auto", the
// library's device default; "fused", one (3H, H) matmul; "separate", HF's
// three) and the result's qkv field says which ran. CUDAGraph captures one
// whole step as a CUDA graph (bbshim.Graph, torch's whole-network capture:
// two eager warmup steps on a side stream, then the captured step) and
// times its replays; the result's cuda_graph is then true. It needs CUDA,
// bbshim's graphs, the fused AdamW, and not fp16 (its scaler reads a flag
// every step).
//
// # Leaks
//
// Run sets gotch's ts.UseFinalizer to Options.Finalizers (default false)
// while it runs, so every tensor must be dropped explicitly; with Soak > 0
// it reports len(ts.ExistingTensors) and the resident set before and after
// the soak steps. A flat tensor count proves that each step frees all of its
// temporaries deterministically.
//
// Run is not safe for concurrent use: libtorch's grad mode is per OS
// thread, and ts.UseFinalizer and the matmul precision are process-wide.
package bench
