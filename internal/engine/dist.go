package engine

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/internal/dist"
)

// Data parallelism. A run whose environment names several processes
// (torchrun's RANK and WORLD_SIZE, or Slurm's SLURM_PROCID and
// SLURM_NTASKS; see dist.EnvFrom) joins their c10d process group in Open:
// Gloo on the CPU, NCCL on CUDA with the device cuda:LOCAL_RANK. Then:
//
//   - Start broadcasts rank 0's parameters to every rank, so that the ranks
//     start from one model whatever each loaded or initialised.
//   - Each rank reads its own shard of every epoch's order (ShardOrder:
//     positions rank, rank+W, rank+2W, … of the order every rank computes
//     from the same seed, padded with the order's first items when W does
//     not divide it), so that step t of W ranks × batch B sees the examples
//     of step t of one rank × batch W·B.
//   - After the backward pass of a step's last micro-batch, the gradients
//     are averaged over the ranks by a bucketed all-reduce
//     (dist.Reducer, 25 MB buckets as DDP), before unscaling and clipping:
//     once per optimizer step, whatever GradAccum is.
//   - The step loss reported is the mean of the ranks' losses, the loss
//     of the averaged gradient.
//   - Only rank 0 writes: checkpoints, metrics.jsonl, the progress bar and
//     messages (Log is silent on the other ranks), and the trainer's files
//     (IsMain).
//   - Every step the ranks agree on whether to stop (one small
//     all-gather), so that an interruption of any rank checkpoints all of
//     them at the same step.
//   - A checkpoint records the world size; resuming with another is
//     refused (the data order and the steps per epoch depend on it).
//
// Every collective is bounded by DistTimeout: a rank that died makes the
// others fail at once, one that stalls makes them fail when it runs out.

// AlwaysDistributedVar, set to 1 in the environment, makes a one-process
// run join a one-rank process group (NCCL on CUDA, Gloo on the CPU) and
// take the data-parallel path: broadcast, gradient all-reduce, sharded
// evaluation, all over one rank. It checks a machine's NCCL or Gloo
// without a second process or GPU.
const AlwaysDistributedVar = "BIOBERTPT_DISTRIBUTED"

// openGroup joins the process group named by the environment, or returns
// nil when the environment names one process.
func openGroup(cfg Config, r *Run) error {
	env, err := dist.EnvFromOS()
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Name, err)
	}
	always := os.Getenv(AlwaysDistributedVar) == "1"
	if !env.Distributed() && !always {
		return nil
	}
	do := dist.DefaultOptions()
	do.Always = always
	if cfg.DistTimeout > 0 {
		do.Timeout = cfg.DistTimeout
	}
	do.Device = r.dev
	g, err := dist.Init(env, do)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Name, err)
	}
	r.group, r.dev = g, g.Device()
	if !g.IsMain() {
		r.cfg.Log = nil
		r.cfg.OnStep = nil
	}
	// Rank 0 prepared the output directory before it joined: the others
	// read it only after this.
	if err := g.Barrier(); err != nil {
		return fmt.Errorf("%s: %w", cfg.Name, err)
	}
	return nil
}

// IsOutDirWriter reports whether this process writes a run's output
// directory: true in one process and on rank 0 of a data-parallel run
// (from the environment, as Open reads it). PrepareOutDir is a no-op on
// the other ranks.
func IsOutDirWriter() bool {
	env, err := dist.EnvFromOS()
	return err != nil || !env.Distributed() || env.Rank == 0
}

// Group is the run's process group (nil: one process).
func (r *Run) Group() *dist.Group { return r.group }

// Rank is this process's rank (0 in one process).
func (r *Run) Rank() int {
	if r.group == nil {
		return 0
	}
	return r.group.Rank()
}

// WorldSize is the number of processes of the run (1: one process).
func (r *Run) WorldSize() int {
	if r.group == nil {
		return 1
	}
	return r.group.WorldSize()
}

// IsMain reports whether this process writes the run's files: rank 0, or
// the only process. A trainer writes its own files (best model, reports)
// only when it is.
func (r *Run) IsMain() bool { return r.group == nil || r.group.IsMain() }

// ShardLen is the length of this rank's shard of an order of n items
// (n in one process).
func (r *Run) ShardLen(n int) int {
	w := r.WorldSize()
	return (n + w - 1) / w
}

// ShardOrder is this rank's shard of an epoch's order (every rank computes
// the same order): positions rank, rank+W, … with the order's first items
// repeated to make its length a multiple of W (DistributedSampler with
// drop_last=False). In one process it is order itself.
func (r *Run) ShardOrder(order []int) []int {
	return dist.Shard(order, r.Rank(), r.WorldSize(), false)
}

// EvalRange is this rank's contiguous part [lo, hi) of an evaluation set
// of n items (the whole set in one process); combine the parts' counts
// with SumInt64 or SumFloat64.
func (r *Run) EvalRange(n int) (lo, hi int) { return dist.EvalRange(n, r.Rank(), r.WorldSize()) }

// SumInt64 sums v element-wise over the ranks (v itself in one process).
func (r *Run) SumInt64(v []int64) ([]int64, error) {
	if r.group == nil {
		return v, nil
	}
	out, err := r.group.SumInt64(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	return out, nil
}

// AllGatherInt64 returns every rank's v, by rank ([v] in one process).
func (r *Run) AllGatherInt64(v []int64) ([][]int64, error) {
	if r.group == nil {
		return [][]int64{v}, nil
	}
	out, err := r.group.AllGatherInt64(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	return out, nil
}

// Barrier waits for every rank (nothing in one process).
func (r *Run) Barrier() error {
	if r.group == nil {
		return nil
	}
	if err := r.group.Barrier(); err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	return nil
}

// startGroup broadcasts rank 0's parameters and builds the gradient
// reducer; it says the effective batch.
func (r *Run) startGroup() error {
	o := r.cfg.Options
	r.say("%s: effective batch %d (batch %d × %d processes × grad-accum %d)\n", r.cfg.Name,
		o.BatchSize*r.WorldSize()*o.GradAccum, o.BatchSize, r.WorldSize(), o.GradAccum)
	if r.group == nil {
		return nil
	}
	list := make([]*ts.Tensor, len(r.params))
	for i, p := range r.params {
		list[i] = p.Tensor
	}
	if err := r.group.Broadcast(list); err != nil {
		return fmt.Errorf("%s: parameters from rank 0: %w", r.cfg.Name, err)
	}
	red, err := r.group.NewReducer(list, dist.DefaultReducerOptions())
	if err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	r.red = red
	r.say("%s: %s, %s backend, gradients %.1f MB in %d buckets, timeout %s\n", r.cfg.Name, r.group.Env(), r.group.Backend(),
		float64(red.Bytes())/1e6, len(red.Buckets()), r.group.Timeout())
	return nil
}

// agreeStop tells every rank whether any of them was interrupted; ctx is
// returned cancelled when one was (with the peer named as the cause when
// this rank's own ctx is not).
func (r *Run) agreeStop(ctx context.Context) (context.Context, bool, error) {
	mine := int64(0)
	if ctx.Err() != nil {
		mine = 1
	}
	if r.group == nil {
		return ctx, mine == 1, nil
	}
	all, err := r.group.SumInt64([]int64{mine})
	if err != nil {
		return ctx, false, fmt.Errorf("%s: step %d: %w", r.cfg.Name, r.step+1, err)
	}
	if all[0] == 0 {
		return ctx, false, nil
	}
	if mine == 0 {
		c, cancel := context.WithCancelCause(ctx)
		cancel(errors.New("another rank's interruption"))
		return c, true, nil
	}
	return ctx, true, nil
}

// combineLosses replaces each pending step's local mean loss by the mean
// over the ranks that had one, and its tokens by the ranks' total.
func (r *Run) combineLosses(loss []float64, has []bool, toks []int) error {
	if r.group == nil || len(loss) == 0 {
		return nil
	}
	v := make([]float64, 0, 3*len(loss))
	for i := range loss {
		h := 0.0
		if has[i] {
			h = 1
			v = append(v, loss[i])
		} else {
			v = append(v, 0)
		}
		v = append(v, h, float64(toks[i]))
	}
	sum, err := r.group.SumFloat64(v)
	if err != nil {
		return fmt.Errorf("%s: step losses: %w", r.cfg.Name, err)
	}
	for i := range loss {
		has[i] = sum[3*i+1] > 0
		if has[i] {
			loss[i] = sum[3*i] / sum[3*i+1]
		}
		toks[i] = int(sum[3*i+2])
	}
	return nil
}

// closeGroup frees the reducer and leaves the process group.
func (r *Run) closeGroup() {
	if r.red != nil {
		r.red.Close()
		r.red = nil
	}
	if r.group != nil {
		r.group.Close()
		r.group = nil
	}
}

// findCheckpoint sets r.ckpt to the newest usable checkpoint. In a
// data-parallel run rank 0 looks first (repairing what an interrupted save
// left), then the others, and every rank must have found the same step.
func (r *Run) findCheckpoint() error {
	find := func() (err error) {
		r.ckpt, err = latestCheckpoint(r.dir, r.cfg.Name, r.say)
		return err
	}
	if r.group == nil {
		return find()
	}
	if err := r.group.MainFirst(find); err != nil {
		return fmt.Errorf("%s: resume: %w", r.cfg.Name, err)
	}
	step := int64(-1)
	if r.ckpt != nil {
		step = int64(r.ckpt.Step)
	}
	all, err := r.AllGatherInt64([]int64{step})
	if err != nil {
		return err
	}
	for k, s := range all {
		if s[0] != step {
			return fmt.Errorf("%s: resume: rank %d found the checkpoint of step %d, rank %d that of step %d (every rank must see rank 0's output directory)",
				r.cfg.Name, k, s[0], r.Rank(), step)
		}
	}
	return nil
}

// MainFirst runs fn on rank 0, then, when it succeeded, on the other ranks
// (fn once in one process): work whose result the others reuse, such as a
// token cache that rank 0 builds and the others then open. A failure of
// rank 0 fails every rank.
func (r *Run) MainFirst(fn func() error) error {
	if r.group == nil {
		return fn()
	}
	return r.group.MainFirst(fn)
}

// SumFloat64 sums v element-wise over the ranks (v itself in one process).
func (r *Run) SumFloat64(v []float64) ([]float64, error) {
	if r.group == nil {
		return v, nil
	}
	out, err := r.group.SumFloat64(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	return out, nil
}

// saySync reports the gradient all-reduce's share of the steps of this
// call.
func (r *Run) saySync() {
	res := r.res
	if res == nil || r.step == res.StartStep {
		return
	}
	n := float64(r.step - res.StartStep)
	r.finishBar()
	r.say("%s: gradient all-reduce %.1f ms/step (%.2f MB a step, %d steps, %.1f s in all)\n", r.cfg.Name,
		1e3*res.SyncSeconds/n, float64(res.SyncBytes)/1e6, r.step-res.StartStep, res.SyncSeconds)
}
