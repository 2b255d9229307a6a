package dist

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbdist"
	"github.com/sugarme/gotch/ts"
)

// ErrUnavailable is wrapped by Init's error when the backend a distributed
// run needs is not compiled into this build (see bbdist.BuildNote).
var ErrUnavailable = errors.New("torch.distributed backend not available")

// Options configures Init. Start from DefaultOptions().
type Options struct {
	// Backend is "auto" (NCCL for a CUDA device, Gloo for the CPU), "gloo"
	// or "nccl". Default "auto".
	Backend string
	// Timeout bounds the rendezvous and every collective (-dist-timeout):
	// when a peer has died or stalls, the others' next collective fails
	// after at most this long (a peer's exit is noticed at once) instead
	// of waiting for ever. Work that one rank does while the others wait
	// in a collective (rank 0 building a cache, writing a checkpoint)
	// must fit in it. Default 30 minutes (torch's default_pg_timeout).
	Timeout time.Duration
	// Device is the training device asked for. With a CUDA device and
	// WorldSize > 1 every rank trains on cuda:LocalRank (one GPU a
	// process, as torchrun places them), or on cuda:0 when it sees exactly
	// one GPU (a scheduler that binds one GPU a task through
	// CUDA_VISIBLE_DEVICES); the index given is then ignored. Default the
	// CPU.
	Device gotch.Device
	// Always makes a process group at world size 1 too (benchmarks, a
	// check that the backend works). Otherwise a world of one process has
	// no process group and every collective returns at once.
	Always bool
}

// DefaultOptions returns the defaults documented on Options.
func DefaultOptions() Options {
	return Options{Backend: "auto", Timeout: 30 * time.Minute, Device: gotch.CPU}
}

// Validate names the first bad field.
func (o Options) Validate() error {
	switch o.Backend {
	case "auto", "gloo", "nccl":
	default:
		return fmt.Errorf("dist: options: Backend %q (want auto, gloo or nccl)", o.Backend)
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("dist: options: Timeout %s must be positive", o.Timeout)
	}
	if o.Timeout < time.Millisecond {
		return fmt.Errorf("dist: options: Timeout %s is below a millisecond", o.Timeout)
	}
	if o.Backend == "nccl" && !o.Device.IsCuda() {
		return errors.New("dist: options: Backend nccl needs a CUDA Device")
	}
	return nil
}

// Group is this process's place in a data-parallel run: its rank, its
// device and, when more than one process takes part (or Options.Always),
// a c10d process group. Every collective must be called by every rank in
// the same order. A Group is not safe for concurrent use; call it from the
// training goroutine.
//
// At world size 1 without Always every collective is a no-op: Barrier
// returns, AllGather* return the caller's values, Broadcast and
// Reducer.Sync leave the tensors alone.
type Group struct {
	env     Env
	backend string
	device  gotch.Device
	timeout time.Duration
	pg      *bbdist.Group
}

// Init joins the run env describes (see EnvFrom). Rank 0 hosts the
// rendezvous (a TCPStore on MasterPort); every rank waits there for the
// others for at most o.Timeout.
func Init(env Env, o Options) (*Group, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if env.WorldSize < 1 || env.Rank < 0 || env.Rank >= env.WorldSize {
		return nil, fmt.Errorf("dist: init: rank %d of world size %d", env.Rank, env.WorldSize)
	}
	g := &Group{env: env, timeout: o.Timeout, device: o.Device}
	if o.Device.IsCuda() && env.WorldSize > 1 {
		idx, n := env.LocalRank, int(gotch.CUDA.DeviceCount())
		switch {
		case n == 1:
			idx = 0 // the scheduler gave this process one GPU (CUDA_VISIBLE_DEVICES)
		case idx >= n:
			return nil, fmt.Errorf("dist: init: local rank %d needs cuda:%d, but %d CUDA devices are visible (start at most that many processes a machine)", env.LocalRank, env.LocalRank, n)
		}
		g.device = gotch.Device{Name: o.Device.Name, Value: idx}
	}
	if env.WorldSize == 1 && !o.Always {
		return g, nil
	}
	backend := o.Backend
	if backend == "auto" {
		backend = "gloo"
		if g.device.IsCuda() {
			backend = "nccl"
		}
	}
	if (backend == "gloo" && !bbdist.HasGloo()) || (backend == "nccl" && !bbdist.HasNCCL()) {
		note := bbdist.BuildNote()
		if note == "" {
			note = "not compiled in"
		}
		return nil, fmt.Errorf("dist: %s needs the %s backend: %w: %s. Run 'go run ./examples/setup' (as root on Debian it installs libgloo-dev; NCCL needs a CUDA libtorch and nccl.h), or set WORLD_SIZE=1 to train in one process",
			env, backend, ErrUnavailable, note)
	}
	g.backend = backend
	ms := o.Timeout.Milliseconds()
	var err error
	if env.WorldSize == 1 {
		g.pg, err = bbdist.NewSingle(backend, g.device.Value, ms)
	} else {
		iface, host := glooDevice(env.MasterAddr, os.Getenv("GLOO_SOCKET_IFNAME"))
		g.pg, err = bbdist.NewGroup(bbdist.GroupOptions{
			Backend: backend, MasterAddr: env.MasterAddr, MasterPort: env.MasterPort,
			StoreServer: env.Rank == 0 && !env.AgentStore, StorePrefix: env.StorePrefix,
			Rank: env.Rank, WorldSize: env.WorldSize, Device: g.device.Value, TimeoutMillis: ms,
			GlooInterfaces: iface, GlooHost: host,
		})
	}
	if err != nil {
		return nil, fmt.Errorf("dist: init %s (%s, timeout %s): %w", env, backend, o.Timeout, err)
	}
	return g, nil
}

// glooDevice picks Gloo's transport: the interfaces in GLOO_SOCKET_IFNAME
// when set (as torch), else the loopback address when rank 0 is on this
// machine's loopback (a one-machine run), else "" (libtorch's default:
// the address this host's name resolves to).
func glooDevice(masterAddr, ifname string) (iface, host string) {
	if ifname != "" {
		return ifname, ""
	}
	if masterAddr == "localhost" {
		return "", "127.0.0.1"
	}
	if ip := net.ParseIP(masterAddr); ip != nil && ip.IsLoopback() {
		if ip.To4() != nil {
			return "", "127.0.0.1"
		}
		return "", "::1"
	}
	return "", ""
}

// Env returns the environment the group was made from.
func (g *Group) Env() Env { return g.env }

// Rank is this process's rank.
func (g *Group) Rank() int { return g.env.Rank }

// WorldSize is the number of processes.
func (g *Group) WorldSize() int { return g.env.WorldSize }

// LocalRank is this process's rank on its machine.
func (g *Group) LocalRank() int { return g.env.LocalRank }

// IsMain reports whether this is rank 0, the one that writes checkpoints,
// logs, progress, reports and the final model.
func (g *Group) IsMain() bool { return g.env.Rank == 0 }

// Device is the device this rank trains on.
func (g *Group) Device() gotch.Device { return g.device }

// Backend is "gloo" or "nccl", or "" when there is no process group.
func (g *Group) Backend() string { return g.backend }

// Timeout is Options.Timeout.
func (g *Group) Timeout() time.Duration { return g.timeout }

// MainWriter returns w on rank 0 and io.Discard on the others.
func (g *Group) MainWriter(w io.Writer) io.Writer {
	if g.IsMain() || w == nil {
		return w
	}
	return io.Discard
}

// Close leaves the process group. It is safe to call twice.
func (g *Group) Close() {
	if g != nil && g.pg != nil {
		g.pg.Close()
		g.pg = nil
	}
}

func (g *Group) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("dist: %s: rank %d of %d (%s, timeout %s): %w (a peer process exited, stalled or disagrees)", op, g.env.Rank, g.env.WorldSize, g.backend, g.timeout, err)
}

// Barrier returns when every rank has called it.
func (g *Group) Barrier() error {
	if g.pg == nil {
		return nil
	}
	return g.wrap("barrier", g.pg.Barrier())
}

// AllReduceSum replaces each tensor by its sum over the ranks, in place.
// The tensors must be contiguous and on Device().
func (g *Group) AllReduceSum(list []*ts.Tensor) error {
	if g.pg == nil || len(list) == 0 {
		return nil
	}
	return g.wrap("all-reduce", g.pg.AllReduceSum(list))
}

// BroadcastBucketBytes is the flat-buffer size of Broadcast (DDP's
// broadcast_bucket_size).
const BroadcastBucketBytes = 250 << 20

// Broadcast copies rank 0's values of the tensors (a model's parameters
// and buffers, in the same order on every rank) into every other rank's,
// in place and without grad mode. It first checks that every rank passes
// the same number of tensors with the same shapes and dtypes, so that two
// different models fail with a clear error.
func (g *Group) Broadcast(list []*ts.Tensor) error {
	if g.pg == nil {
		return nil
	}
	h := fnv.New64a()
	var numel int64
	for i, t := range list {
		if t == nil {
			return fmt.Errorf("dist: broadcast: tensor %d is nil", i)
		}
		sz := t.MustSize()
		fmt.Fprintf(h, "%v %v;", sz, t.DType())
		n := int64(1)
		for _, d := range sz {
			n *= d
		}
		numel += n
	}
	mine := []int64{int64(len(list)), numel, int64(h.Sum64())}
	all, err := g.pg.AllGatherInt64(mine, g.env.WorldSize)
	if err != nil {
		return g.wrap("broadcast: compare shapes", err)
	}
	for r := 0; r < g.env.WorldSize; r++ {
		o := all[r*3 : r*3+3]
		if o[0] != mine[0] || o[1] != mine[1] || o[2] != mine[2] {
			return fmt.Errorf("dist: broadcast: rank %d has %d tensors with %d values, rank %d has %d with %d (or their shapes or dtypes differ): every rank must build the same model",
				r, o[0], o[1], g.env.Rank, mine[0], mine[1])
		}
	}
	return g.wrap("broadcast", g.pg.Broadcast(list, 0, BroadcastBucketBytes))
}

// AllGatherInt64 returns every rank's values, indexed by rank. The ranks
// may pass different numbers of values.
func (g *Group) AllGatherInt64(v []int64) ([][]int64, error) {
	if g.pg == nil {
		return [][]int64{append([]int64{}, v...)}, nil
	}
	lens, err := g.pg.AllGatherInt64([]int64{int64(len(v))}, g.env.WorldSize)
	if err != nil {
		return nil, g.wrap("all-gather lengths", err)
	}
	maxLen := int64(0)
	for _, n := range lens {
		maxLen = max(maxLen, n)
	}
	pad := make([]int64, maxLen)
	copy(pad, v)
	flat, err := g.pg.AllGatherInt64(pad, g.env.WorldSize)
	if err != nil {
		return nil, g.wrap("all-gather", err)
	}
	out := make([][]int64, g.env.WorldSize)
	for r := range out {
		out[r] = append([]int64{}, flat[int64(r)*maxLen:int64(r)*maxLen+lens[r]]...)
	}
	return out, nil
}

// AllGatherFloat64 is AllGatherInt64 for float64 values.
func (g *Group) AllGatherFloat64(v []float64) ([][]float64, error) {
	if g.pg == nil {
		return [][]float64{append([]float64{}, v...)}, nil
	}
	lens, err := g.pg.AllGatherInt64([]int64{int64(len(v))}, g.env.WorldSize)
	if err != nil {
		return nil, g.wrap("all-gather lengths", err)
	}
	maxLen := int64(0)
	for _, n := range lens {
		maxLen = max(maxLen, n)
	}
	pad := make([]float64, maxLen)
	copy(pad, v)
	flat, err := g.pg.AllGatherFloat64(pad, g.env.WorldSize)
	if err != nil {
		return nil, g.wrap("all-gather", err)
	}
	out := make([][]float64, g.env.WorldSize)
	for r := range out {
		out[r] = append([]float64{}, flat[int64(r)*maxLen:int64(r)*maxLen+lens[r]]...)
	}
	return out, nil
}

// SumInt64 returns the element-wise sum of every rank's v (sharded
// evaluation counts): the same on every rank, and exact.
func (g *Group) SumInt64(v []int64) ([]int64, error) {
	all, err := g.AllGatherInt64(v)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(v))
	for r, x := range all {
		if len(x) != len(v) {
			return nil, fmt.Errorf("dist: sum: rank %d has %d values, rank %d has %d", r, len(x), g.env.Rank, len(v))
		}
		for i := range x {
			out[i] += x[i]
		}
	}
	return out, nil
}

// SumFloat64 returns the element-wise sum of every rank's v, added in rank
// order, so that every rank gets the same bits.
func (g *Group) SumFloat64(v []float64) ([]float64, error) {
	all, err := g.AllGatherFloat64(v)
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(v))
	for r, x := range all {
		if len(x) != len(v) {
			return nil, fmt.Errorf("dist: sum: rank %d has %d values, rank %d has %d", r, len(x), g.env.Rank, len(v))
		}
		for i := range x {
			out[i] += x[i]
		}
	}
	return out, nil
}

// MainFirst runs fn on rank 0, then, once rank 0 has succeeded, on every
// other rank: rank 0 builds a cache that the others then read. When fn
// fails on rank 0, the other ranks do not run it and return an error
// saying so. fn's time on rank 0 must fit in the timeout.
func (g *Group) MainFirst(fn func() error) error {
	var err error
	if g.IsMain() {
		err = fn()
	}
	if g.pg == nil {
		return err
	}
	ok := int64(1)
	if err != nil {
		ok = 0
	}
	st, cerr := g.pg.AllGatherInt64([]int64{ok}, g.env.WorldSize)
	if cerr != nil {
		return errors.Join(err, g.wrap("main-first", cerr))
	}
	if err != nil {
		return err
	}
	if st[0] == 0 {
		return fmt.Errorf("dist: rank %d: rank 0 failed the step it runs first (see its log)", g.env.Rank)
	}
	if !g.IsMain() {
		return fn()
	}
	return nil
}

// ReducerOptions configures NewReducer. Start from DefaultReducerOptions().
type ReducerOptions struct {
	// FirstBucketBytes caps the first bucket (the last layers'
	// gradients, ready first): 1 MiB, DDP's first bucket.
	FirstBucketBytes int64
	// BucketBytes caps the others: 25 MiB, DDP's bucket_cap_mb.
	BucketBytes int64
}

// DefaultReducerOptions returns DDP's bucket sizes.
func DefaultReducerOptions() ReducerOptions {
	return ReducerOptions{FirstBucketBytes: 1 << 20, BucketBytes: 25 << 20}
}

// Validate names the first bad field.
func (o ReducerOptions) Validate() error {
	if o.FirstBucketBytes <= 0 {
		return fmt.Errorf("dist: reducer options: FirstBucketBytes %d must be positive", o.FirstBucketBytes)
	}
	if o.BucketBytes <= 0 {
		return fmt.Errorf("dist: reducer options: BucketBytes %d must be positive", o.BucketBytes)
	}
	return nil
}

// Reducer averages the gradients of a fixed list of parameters over the
// ranks, as DDP does: the parameters are assigned once to buckets in
// reverse order (per dtype and device), each bucket is a flat buffer, and
// Sync copies the gradients in, divides by the world size, all-reduces
// each bucket (the copy of the next bucket overlapping the reduction of
// the previous one) and copies the means back.
type Reducer struct {
	g     *Group
	r     *bbdist.Reducer
	bytes int64
	n     int
}

// NewReducer prepares the buckets for params (the trainable parameters, in
// the same order on every rank).
func (g *Group) NewReducer(params []*ts.Tensor, o ReducerOptions) (*Reducer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	red := &Reducer{g: g, n: len(params)}
	if g.pg == nil || len(params) == 0 {
		return red, nil
	}
	r, err := bbdist.NewReducer(g.pg, params, o.FirstBucketBytes, o.BucketBytes)
	if err != nil {
		return nil, fmt.Errorf("dist: reducer over %d parameters: %w", len(params), err)
	}
	red.r = r
	sizes, _ := r.Buckets()
	for _, s := range sizes {
		red.bytes += s
	}
	return red, nil
}

// Bucket is one of a Reducer's flat buffers.
type Bucket struct {
	Bytes  int64 // size of the buffer
	Params int   // parameters in it
}

// Buckets describes the buckets, in the order Sync reduces them (none at
// world size 1).
func (r *Reducer) Buckets() []Bucket {
	if r.r == nil {
		return nil
	}
	sizes, counts := r.r.Buckets()
	out := make([]Bucket, len(sizes))
	for i := range sizes {
		out[i] = Bucket{Bytes: sizes[i], Params: int(counts[i])}
	}
	return out
}

// Bytes is the gradient volume each Sync all-reduces (0 at world size 1).
func (r *Reducer) Bytes() int64 { return r.bytes }

// Sync replaces every parameter's gradient by its mean over the ranks. A
// gradient that is undefined on a rank (a parameter that rank's batch did
// not reach) counts as zeros there and is defined afterwards. With
// gradient accumulation, call it once per optimizer step, after the last
// micro-batch's backward and before clipping.
func (r *Reducer) Sync() error {
	if r.r == nil {
		return nil
	}
	_, err := r.r.Sync()
	return r.g.wrap("gradient all-reduce", err)
}

// Close frees the buckets. It is safe to call twice.
func (r *Reducer) Close() {
	if r != nil && r.r != nil {
		r.r.Close()
		r.r = nil
	}
}

// BackendsCompiled returns the backends this build has ("gloo", "nccl")
// and, when one is missing, why.
func BackendsCompiled() (backends []string, note string) {
	if bbdist.HasGloo() {
		backends = append(backends, "gloo")
	}
	if bbdist.HasNCCL() {
		backends = append(backends, "nccl")
	}
	return backends, strings.TrimSpace(bbdist.BuildNote())
}
