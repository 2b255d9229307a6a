// Package trainstate writes and finds checkpoints for resumable training,
// laid out as HF Trainer's: outDir/checkpoint-<step>/ holding the model
// (config.json + model.safetensors, written by the caller's callback),
// optimizer.safetensors (AdamW's exp_avg, exp_avg_sq and step per
// parameter, see optim.AdamW.StateDict; the number of Step calls in the
// metadata key "steps") and trainer_state.json (State: step, epoch, the
// caller's data position and RNG state, best score and step, options, seed,
// format version and a manifest of the other files with their sizes), plus
// outDir/latest naming the newest checkpoint.
//
// Crash safety: a checkpoint directory is built under a temporary name,
// every file synced, then renamed into place (atomicfile.WriteDir), and the
// "latest" pointer is written after it; trainer_state.json is the last file
// written inside. A kill -9 at any moment therefore leaves either no new
// directory (only a ".checkpoint-N.tmp-*" that Latest removes) or a complete
// one. Latest also survives later damage: it validates checkpoints newest
// first (manifest sizes, JSON syntax, safetensors headers) and falls back to
// the previous good one. Rotate keeps the newest K checkpoints plus the best
// (HF's save_total_limit with load_best_model_at_end).
package trainstate
