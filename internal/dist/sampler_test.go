package dist

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShard(t *testing.T) {
	cases := []struct {
		name     string
		order    []int
		world    int
		dropLast bool
		want     [][]int
	}{
		{"even", []int{5, 3, 1, 0, 2, 4}, 2, false, [][]int{{5, 1, 2}, {3, 0, 4}}},
		{"padded by wrapping", []int{4, 3, 2, 1, 0}, 2, false, [][]int{{4, 2, 0}, {3, 1, 4}}},
		{"tail dropped", []int{4, 3, 2, 1, 0}, 2, true, [][]int{{4, 2}, {3, 1}}},
		{"fewer examples than ranks", []int{9}, 3, false, [][]int{{9}, {9}, {9}}},
		{"fewer examples than ranks, drop", []int{9}, 3, true, [][]int{{}, {}, {}}},
		{"one rank keeps the order", []int{2, 0, 1}, 1, false, [][]int{{2, 0, 1}}},
		{"empty", nil, 2, false, [][]int{nil, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for r := range tc.world {
				got := Shard(tc.order, r, tc.world, tc.dropLast)
				if len(tc.want[r]) == 0 {
					assert.Empty(t, got, "rank %d", r)
					continue
				}
				assert.Equal(t, tc.want[r], got, "rank %d", r)
			}
		})
	}
}

// W ranks × batch B over the sharded order make, step by step, the same
// batches as one process × batch W·B over the global order.
func TestSamplerReproducesOneProcessBatches(t *testing.T) {
	const n, world, batch = 24, 3, 2
	for epoch := range 3 {
		one := Sampler{N: n, WorldSize: 1, Shuffle: true, Seed: 7}
		global, err := one.Indices(epoch)
		require.NoError(t, err)
		var shards [][]int
		for r := range world {
			s := Sampler{N: n, Rank: r, WorldSize: world, Shuffle: true, Seed: 7}
			idx, err := s.Indices(epoch)
			require.NoError(t, err)
			require.Len(t, idx, s.NumSamples())
			shards = append(shards, idx)
		}
		for step := 0; step*batch*world < n; step++ {
			var union []int
			for r := range world {
				union = append(union, shards[r][step*batch:(step+1)*batch]...)
			}
			want := slices.Clone(global[step*batch*world : (step+1)*batch*world])
			slices.Sort(union)
			slices.Sort(want)
			assert.Equal(t, want, union, "epoch %d step %d", epoch, step)
		}
	}
}

func TestSamplerEpochsAndSeeds(t *testing.T) {
	s := Sampler{N: 50, WorldSize: 2, Shuffle: true, Seed: 1}
	a0, _ := s.Indices(0)
	again, _ := s.Indices(0)
	a1, _ := s.Indices(1)
	assert.Equal(t, a0, again, "same seed and epoch: same order")
	assert.NotEqual(t, a0, a1, "reshuffled per epoch")
	s.Seed = 2
	b0, _ := s.Indices(0)
	assert.NotEqual(t, a0, b0, "another seed, another order")
	s.Shuffle = false
	c, _ := s.Indices(3)
	assert.Equal(t, []int{0, 2, 4, 6}, c[:4])
	// Order replaces the shuffle.
	s.Order = func(epoch int) []int {
		o := make([]int, 50)
		for i := range o {
			o[i] = 49 - i
		}
		return o
	}
	d, _ := s.Indices(0)
	assert.Equal(t, []int{49, 47, 45}, d[:3])
	s.Order = func(int) []int { return []int{1} }
	_, err := s.Indices(0)
	assert.ErrorContains(t, err, "order has 1 indices, want N=50")
}

func TestSamplerValidate(t *testing.T) {
	assert.ErrorContains(t, Sampler{N: -1, WorldSize: 1}.Validate(), "N -1")
	assert.ErrorContains(t, Sampler{N: 1}.Validate(), "WorldSize 0")
	assert.ErrorContains(t, Sampler{N: 1, WorldSize: 2, Rank: 2}.Validate(), "Rank 2 out of range")
	assert.Equal(t, 3, Sampler{N: 5, WorldSize: 2}.NumSamples())
	assert.Equal(t, 2, Sampler{N: 5, WorldSize: 2, DropLast: true}.NumSamples())
}

func TestEvalRangeCoversOnce(t *testing.T) {
	for _, n := range []int{0, 1, 5, 17, 100} {
		for _, w := range []int{1, 2, 3, 8} {
			seen := make([]int, n)
			prev := 0
			for r := range w {
				lo, hi := EvalRange(n, r, w)
				require.Equal(t, prev, lo, "n=%d w=%d r=%d: contiguous, in rank order", n, w, r)
				require.LessOrEqual(t, hi-lo, (n+w-1)/w)
				require.GreaterOrEqual(t, hi-lo, n/w)
				for i := lo; i < hi; i++ {
					seen[i]++
				}
				prev = hi
			}
			require.Equal(t, n, prev)
			for i, c := range seen {
				require.Equal(t, 1, c, fmt.Sprintf("n=%d w=%d example %d", n, w, i))
			}
		}
	}
}
