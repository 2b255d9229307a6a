// Package optim holds the optimizer pieces of HF Trainer's training loop
// over gotch tensors, each equal to its PyTorch/transformers counterpart:
// AdamW (torch.optim.AdamW with HF's two weight-decay groups; foreach,
// fused and single-tensor kernels), LinearSchedule
// (get_linear_schedule_with_warmup), ClipGradNorm and ClipGradNormDevice
// (clip_grad_norm_) and GradScaler (torch.cuda.amp.GradScaler, fp16 loss
// scaling).
//
// Contract:
//   - Threads: libtorch's grad mode is per OS thread; every function locks
//     the calling goroutine to its thread for its duration and switches
//     grad mode off and back on. Call them from the goroutine that runs the
//     training step.
//   - Memory: no function drops a tensor it did not create, and all
//     temporaries are dropped before returning (AdamW.Step leaves
//     len(ts.ExistingTensors) unchanged). The norm tensors of
//     ClipGradNormDevice and AdamW.Update are the caller's to drop.
//   - Host syncs: ClipGradNorm reads the norm back (it waits for the
//     device); ClipGradNormDevice returns it as a 0-dim device tensor;
//     GradScaler.Unscale reads one flag per step.
//   - Loss scaling: a step with a NaN or ±Inf gradient is skipped and
//     leaves the parameters and AdamW's step counts unchanged; callers
//     counting updates count only stepped ones. A disabled scaler (fp32,
//     bf16) has scale 1 and always steps, so one code path serves every
//     precision. AdamW.Update(scaler, maxNorm, lr) is the whole step.
//   - State: AdamW.StateDict/LoadStateDict and GradScaler.State/LoadState
//     round-trip, so save → load → continue is bit-identical to an
//     uninterrupted run.
//   - The foreach and fused kernels and ZeroGrad call the bbshim package
//     that internal/torchsetup installs into the patched gotch copy.
//
// docs/OPTIM.md has the update equations, the kernels and their measured
// agreement with torch, the schedule, clipping and the fp16 step.
package optim
