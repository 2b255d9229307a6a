// Package dist is data-parallel training's communication layer on
// libtorch's torch.distributed (c10d), through the bbdist package that
// setup compiles into the patched gotch copy: process groups with a
// TCPStore rendezvous (EnvFrom, Init), Gloo on the CPU and NCCL on CUDA;
// the collectives a trainer needs; a DDP-style gradient Reducer; a
// DistributedSampler (Sampler, EvalRange); and Launch, the one-machine
// launcher behind "biobertpt launch".
//
// Contract:
//   - Every rank runs the same command and calls the same collectives in
//     the same order (Broadcast checks that the tensors' count, shapes and
//     dtypes agree). Tensors passed to collectives are contiguous and on
//     Device(); they are updated in place and stay the caller's.
//   - A world of one process has no process group: every collective
//     returns at once, so a trainer runs the same code with or without
//     peers. Close is safe to call twice.
//   - -batch is per process; Reducer.Sync averages, so W ranks × batch B
//     take the same steps as one process × batch W·B when the loss is a
//     mean over examples (a per-token mean needs the scaling in
//     docs/DISTRIBUTED.md).
//   - Failure: Options.Timeout bounds the rendezvous and every collective.
//     A peer that exits makes the others' next collective fail at once, a
//     stalled one after the timeout; the error names the operation and
//     this rank, and the group returns it again on every later call.
//     Launch stops the other ranks and returns a *RankError.
//   - Backends are fixed at setup (BackendsCompiled); Init fails with
//     ErrUnavailable, saying why, only when WorldSize > 1 (or
//     Options.Always) asks for a missing one.
//   - A trainer writes checkpoints, logs and the final model on rank 0
//     only (IsMain, MainWriter; MainFirst lets rank 0 build a cache first).
//
// docs/DISTRIBUTED.md has the launchers' variables, a trainer's calls, the
// bucketing, the backends' network rules and what speed-up to expect.
package dist
