// Package bench measures the training throughput and peak memory of this
// library's BERT the way HuggingFace's reference script hf_bench.py does
// (same step, batch recipe and timing), so that the JSON lines of the two
// compare field by field.
//
// Contract:
//   - Run is not safe for concurrent use: libtorch's grad mode is per OS
//     thread, and ts.UseFinalizer and the matmul precision are process-wide;
//     Run sets and restores them.
//   - While Run runs, gotch's finalizers are off (Options.Finalizers), so
//     every tensor must be dropped explicitly; Soak reports the tensor
//     count and resident set before and after, to show that none leaks.
//   - An out-of-memory step is an error wrapping torchutil.ErrOutOfMemory
//     that names the run (task, batch × seq, device).
//   - fp16 and tf32 need a CUDA device (bert.ErrFP16NeedsCUDA, ErrNoTF32).
//
// docs/BENCH.md describes the step, the batch, the memory readings, the
// precisions and the other levers; BENCHMARKS.md has the results.
package bench
