// Package optim holds the optimizer pieces of HF Trainer's training loop,
// over gotch tensors: AdamW, the linear warmup/decay schedule, gradient
// clipping and fp16 loss scaling, each equal to its PyTorch/transformers
// counterpart.
//
// # AdamW
//
// AdamW is torch.optim.AdamW (Loshchilov & Hutter, "Decoupled Weight Decay
// Regularization", ICLR 2019) as torch 1.13's _single_tensor_adamw computes
// it, with amsgrad off. For each parameter p with gradient g, moments m, v
// (zero at first) and its own update count t:
//
//	t ← t + 1
//	p ← p · (1 − lr·λ)                       λ = WeightDecay, decay group only
//	m ← β1·m + (1 − β1)·g
//	v ← β2·v + (1 − β2)·g·g
//	p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε)
//
// The bias corrections are computed in float64 with C's pow, as Python does,
// and passed to libtorch as scalars. Parameters whose gradient is undefined
// are skipped (their t does not advance). As in HF Trainer
// (Trainer.create_optimizer), there are two parameter groups: names for
// which AdamWOptions.NoDecay is true (default HFNoDecay: "bias" anywhere in
// the name or "LayerNorm.weight") get λ = 0.
//
// Kernels (AdamWOptions.Impl, reported by Implementation()): gotch v0.9.1
// generates no bindings for torch's _foreach_* ops nor for _fused_adamw_,
// so those go through the bbshim package that internal/torchsetup installs
// into the patched gotch copy (C++ in internal/torchsetup/shim).
//
//   - ImplForeach: torch 1.13's _multi_tensor_adamw (foreach=True), nine
//     _foreach_ ops over all parameters per step, with per-parameter step
//     sizes as scalar lists. Default on the CPU and on CUDA with libtorch < 2.
//   - ImplFused: torch 2.x's _fused_adamw (fused=True), one
//     at::_fused_adamw_ call per weight-decay group; the step counters are
//     float32 device tensors as in torch (kept beside the host counts and
//     rebuilt from them after LoadStateDict). Default on CUDA with
//     libtorch ≥ 2.0 when all parameters share one device and dtype.
//   - ImplSingleTensor: _single_tensor_adamw, about a dozen gotch ops per
//     parameter. gotch exposes no alpha argument for add_, so m's update is
//     a multiply then an add where torch uses one fused multiply-add.
//
// Against torch 1.13 (testdata/gen_adamw.py, two groups, clipping, HF's
// schedule, 25 steps) the single-tensor and foreach kernels agree with
// torch within 1.2e-7 and with each other within 1.2e-7 over the 25 steps
// (tests allow 1e-6). The fused kernel computes the bias corrections on the
// device in float32 (torch's kernel), so it may differ from the others by a
// few float32 roundings; it is untested here (CPU libtorch 1.13) and is
// checked by TestAdamWParityWithTorch wherever at::_fused_adamw_ has a CPU
// kernel (libtorch ≥ 2.4). On the CPU (10M parameters, libtorch 1.13)
// foreach takes about two thirds of single-tensor's time (BENCHMARKS.md).
//
// State: StateDict returns "<name>.exp_avg", "<name>.exp_avg_sq" (copies)
// and "<name>.step" (int64 scalar) for every parameter that has been
// updated, plus the number of Step calls; LoadStateDict restores them, so
// that save → load → continue is bit-identical to an uninterrupted run.
//
// # Schedule
//
// LinearSchedule.LR(step) is HF's get_linear_schedule_with_warmup, where
// step is the number of updates already done (LambdaLR.last_epoch):
//
//	lr(s) = base · s / max(1, W)                          s < W
//	lr(s) = base · max(0, (T − s) / max(1, T − W))        s ≥ W
//
// so the first update of a warmup uses lr 0. WarmupSteps(r, T) = ⌈r·T⌉, as
// TrainingArguments.get_warmup_steps.
//
// # Clipping
//
// ClipGradNorm is torch.nn.utils.clip_grad_norm_ with norm_type 2:
// total = ‖(‖g₁‖₂, …, ‖gₙ‖₂)‖₂ and gᵢ ← gᵢ · min(1, maxNorm / (total + 1e-6)),
// computed in the gradients' dtype on their device. It returns the norm as
// a float64, so it waits for the device (two reads per call).
// ClipGradNormDevice computes the same with foreach ops (torch 2.x's
// foreach=True path, through bbshim) and returns the norm as a 0-dim device
// tensor: nothing is read back, so a CUDA training step can queue its
// kernels without a host sync and read the norm only every N steps.
//
// # Loss scaling
//
// GradScaler is torch.cuda.amp.GradScaler, for fp16 mixed precision
// (bert.PrecisionFP16): fp16 activation gradients underflow below 2⁻²⁴, so
// the loss is multiplied by a scale S before backward and the float32
// parameter gradients are divided by S before clipping and the update. S
// adapts (defaults: S₀ = 2¹⁶, growth 2, backoff 0.5, interval 2000): a step
// whose gradients hold a NaN or ±Inf is skipped and S ← S·0.5; after 2000
// consecutive finite steps S ← S·2. One training step:
//
//	loss := model loss (float32)
//	scaled, _ := scaler.Scale(loss)       // loss · S, a new tensor
//	scaled.Backward(); scaled.MustDrop()  // gradients are S · ∂loss/∂p
//	stepped, err := scaler.Step(params, func() error {
//		ClipGradNorm(params, 1.0)          // on the unscaled gradients
//		return opt.Step(lr)
//	})                                    // Unscale, step unless inf/NaN, Update
//	opt.ZeroGrad()                        // always, also after a skipped step
//
// AdamW.Update(scaler, 1.0, lr) is those last two calls in one, with
// device-side clipping (ClipGradNormDevice); the trainers and bench use it.
//
// Step is Unscale → (skip the closure when foundInf) → Update(foundInf);
// callers that need the unscaled gradients before stepping call Unscale
// themselves and Step then reuses its result (or they call Update). Unscale
// reads one flag back from the device per step (torch's scaler.step syncs
// on found_inf too). A skipped step leaves the parameters and AdamW's step
// counts unchanged; HF Trainer then also skips the LR scheduler's step
// (optimizer_was_run), so a caller counting updates should count only
// stepped ones. A disabled scaler (fp32, bf16: ScalerOptions{} or
// Enabled false) has S = 1 and Step always runs the closure, so one code
// path serves every precision. State/LoadState carry S and the growth
// tracker (JSON: {"scale", "growth_tracker"}) in checkpoints, so a resumed
// run scales as an uninterrupted one.
//
// # Threads and memory
//
// libtorch's grad mode is per OS thread: every function here locks the
// calling goroutine to its thread for its duration and switches grad mode
// off and back on (reading the previous state correctly; gotch's
// ts.GradSetEnabled misreports it). Call them from the goroutine that runs
// the training step. No function drops a tensor it did not create; all
// temporaries are dropped before returning (AdamW.Step leaves
// len(ts.ExistingTensors) unchanged). gotch's in-place wrappers leak one
// tensor handle per call, so updates use out= variants with out = self.
// ZeroGrad zeroes all gradients with one _foreach_zero_ (bbshim).
package optim
