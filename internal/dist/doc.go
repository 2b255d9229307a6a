// Package dist is data-parallel training's communication layer on
// libtorch's torch.distributed (c10d), through the bbdist package that
// setup compiles into the patched gotch copy: process groups with a
// TCPStore rendezvous, Gloo on the CPU and NCCL on CUDA; the collectives
// a trainer needs; a DistributedSampler; and Launch, the one-machine
// launcher behind "biobertpt launch".
//
// # The run
//
// Every process (rank) runs the same command. EnvFrom reads where it
// stands from its launcher's variables: torchrun's (and a Kubernetes
// PyTorchJob's, and Launch's) RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT, else Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID with
// rank 0's host taken from the node list. Init joins the process group:
// rank 0 hosts a TCPStore on MASTER_PORT (unless torchrun's agent hosts
// it: Env.AgentStore), the others connect to it, then the backend
// connects every pair. A world of one process has no process
// group and every collective returns at once, so a trainer calls the same
// code in both cases.
//
// # A trainer's calls
//
//	env, err := dist.EnvFromOS()
//	g, err := dist.Init(env, dist.Options{Backend: "auto", Timeout: distTimeout, Device: dev})
//	defer g.Close()
//	dev = g.Device()                      // cuda:LOCAL_RANK with NCCL
//	// build the model on dev with the same seed on every rank, then
//	err = g.Broadcast(paramsAndBuffers)   // rank 0's values everywhere
//	red, err := g.NewReducer(trainable, dist.DefaultReducerOptions())
//	s := dist.Sampler{N: n, Rank: g.Rank(), WorldSize: g.WorldSize(), Seed: seed, Shuffle: true, Order: trainerOrder}
//	for epoch := ...; idx, _ := s.Indices(epoch)   // this rank's examples
//	    // micro-batches of idx: forward, backward (gradients accumulate)
//	    err = red.Sync()                  // once per optimizer step, before clipping
//	    // clip, AdamW step, schedule: identical on every rank
//	lo, hi := dist.EvalRange(nEval, g.Rank(), g.WorldSize())
//	counts, err := g.SumInt64(myCounts)    // exact one-process metrics
//	if g.IsMain() { /* checkpoints, logs, progress, the final model */ }
//	err = g.MainFirst(buildOrReadCache)   // rank 0 builds, the others read
//
// -batch is per process (HF's per_device_train_batch_size): the effective
// batch is batch × WorldSize × grad-accum. Because Sync averages, W ranks
// × batch B with the Sampler's order take the same steps as one process ×
// batch W·B over Sampler.GlobalOrder, when the loss is a mean over the
// examples of a batch. A loss averaged over tokens weights each rank's
// tokens by its own count: for the same result, scale each rank's loss by
// W · (its tokens) / (all ranks' tokens), with the token counts from
// SumInt64.
//
// # Failure
//
// Options.Timeout (-dist-timeout) bounds the rendezvous and every
// collective. A peer that exits (a crash, a kill, an out-of-memory) closes
// its connections and the others' next collective fails at once; a peer
// that stalls makes them fail after the timeout. The error names the
// operation and this rank; a group that saw one returns it again at once
// on every later call, so nothing waits twice. The trainer then exits
// non-zero; Launch stops the other ranks; a rerun resumes from the last
// checkpoint (written by rank 0 only).
//
// # Gradient reduction
//
// Reducer follows torch's DistributedDataParallel (reducer.cpp): the
// parameters are assigned once to buckets in reverse order (gradients of
// the last layers are ready first), per dtype and device, the first
// bucket at most 1 MiB and the others at most 25 MiB. Sync copies each
// bucket's gradients into its flat buffer, divides by W (DDP's default
// allreduce hook divides before summing), starts the bucket's all-reduce
// and moves on to the next bucket while the backend reduces, then copies
// the means back. It runs after backward rather than overlapped with it:
// gotch has no autograd hooks to start a bucket as soon as its last
// gradient is ready.
//
// # Backends
//
// Gloo reduces CPU tensors over TCP (and CUDA tensors through host
// copies); NCCL reduces CUDA tensors on the GPUs. Options.Backend "auto"
// takes NCCL for a CUDA device and Gloo otherwise. Which backends a build
// has is fixed at setup (BackendsCompiled): Gloo needs the gloo headers
// (Debian's libgloo-dev, which setup installs as root), NCCL a CUDA
// libtorch and nccl.h. Init asks for the backend only when WorldSize > 1
// (or Options.Always) and fails with ErrUnavailable, saying why, when it
// is missing; everything else builds and runs without it. NCCL groups
// switch TORCH_NCCL_BLOCKING_WAIT on (unless set), so that a stalled
// collective raises in the rank that waits for it after the timeout.
// Gloo's transport binds GLOO_SOCKET_IFNAME's interfaces when set, the
// loopback address when MASTER_ADDR is a loopback address, and otherwise
// the address this host's name resolves to.
package dist
