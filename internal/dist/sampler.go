package dist

import (
	"fmt"
	"math/rand/v2"
)

// Sampler gives each rank its share of every epoch's example order, with
// the semantics of torch's DistributedSampler:
//
//   - every rank computes the same global order (the same seed on every
//     rank; reshuffled per epoch by seeding with the epoch);
//   - rank r takes positions r, r+W, r+2W, … of it (W the world size), so
//     that the k-th batch of B examples on each rank together make the
//     k-th batch of W·B examples of a one-process run over the same order:
//     W ranks × batch B reproduce one process × batch W·B;
//   - the uneven tail: when N is not a multiple of W, the order is padded
//     with its own first W − N mod W elements up to the next multiple of
//     W (DropLast false, torch's default: those examples are seen twice in
//     that epoch), or its last N mod W elements are dropped (DropLast
//     true). Either way every rank gets the same number of examples, so
//     every rank takes the same number of optimizer steps, which the
//     collectives require. With N a multiple of W nothing changes.
//
// Evaluation does not go through a Sampler: see EvalRange.
type Sampler struct {
	N         int // examples in the data set
	Rank      int
	WorldSize int
	// Shuffle draws a new order each epoch; false keeps 0 … N-1.
	Shuffle bool
	// Seed seeds the order (the same on every rank).
	Seed uint64
	// DropLast drops the uneven tail instead of padding.
	DropLast bool
	// Order, when set, replaces the built-in shuffle: it returns epoch's
	// global order (a permutation of 0 … N-1), so that a trainer keeps
	// its own. It must return the same order on every rank.
	Order func(epoch int) []int
}

// Validate names the first bad field.
func (s Sampler) Validate() error {
	switch {
	case s.N < 0:
		return fmt.Errorf("dist: sampler: N %d is negative", s.N)
	case s.WorldSize < 1:
		return fmt.Errorf("dist: sampler: WorldSize %d must be at least 1", s.WorldSize)
	case s.Rank < 0 || s.Rank >= s.WorldSize:
		return fmt.Errorf("dist: sampler: Rank %d out of range for WorldSize %d", s.Rank, s.WorldSize)
	}
	return nil
}

// NumSamples is the number of examples each rank gets per epoch:
// ⌈N/W⌉, or ⌊N/W⌋ with DropLast.
func (s Sampler) NumSamples() int {
	if s.WorldSize < 1 {
		return 0
	}
	if s.DropLast {
		return s.N / s.WorldSize
	}
	return (s.N + s.WorldSize - 1) / s.WorldSize
}

// GlobalOrder is epoch's order of all N examples, before sharding: Order
// when set, else a PCG(Seed, epoch) permutation, else (Shuffle false) the
// identity.
func (s Sampler) GlobalOrder(epoch int) []int {
	if s.Order != nil {
		return s.Order(epoch)
	}
	if !s.Shuffle {
		out := make([]int, s.N)
		for i := range out {
			out[i] = i
		}
		return out
	}
	return rand.New(rand.NewPCG(s.Seed, uint64(epoch))).Perm(s.N)
}

// Indices returns the examples this rank visits in epoch, in order.
func (s Sampler) Indices(epoch int) ([]int, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	order := s.GlobalOrder(epoch)
	if len(order) != s.N {
		return nil, fmt.Errorf("dist: sampler: epoch %d order has %d indices, want N=%d", epoch, len(order), s.N)
	}
	return Shard(order, s.Rank, s.WorldSize, s.DropLast), nil
}

// Shard returns rank's share of order (see Sampler): positions rank,
// rank+world, … of order padded by wrapping around to a multiple of world
// (or cut to one, with dropLast). world 1 returns order itself.
func Shard(order []int, rank, world int, dropLast bool) []int {
	if world <= 1 {
		return order
	}
	n := len(order)
	total := n - n%world
	if !dropLast && n%world != 0 {
		total = n + world - n%world
	}
	if n == 0 {
		return nil
	}
	out := make([]int, 0, total/world)
	for p := rank; p < total; p += world {
		out = append(out, order[p%n])
	}
	return out
}

// EvalRange returns rank's contiguous share [lo, hi) of n evaluation
// examples: the ranks' shares cover 0 … n-1 exactly once, in rank order,
// and differ in size by at most one, so no example is counted twice.
// Each rank evaluates its share and the counts are combined with
// Group.SumInt64 (or the predictions gathered in rank order), which gives
// exactly the one-process metrics.
func EvalRange(n, rank, world int) (lo, hi int) {
	if world <= 1 {
		return 0, n
	}
	return rank * n / world, (rank + 1) * n / world
}
