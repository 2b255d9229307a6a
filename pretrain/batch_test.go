package pretrain

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testBatcher(t testing.TB, bo BatchOptions, blk BlockOptions, mo MaskOptions) (*Batcher, *Dataset, *Masker) {
	t.Helper()
	enc := newFakeEncoder()
	c, _ := buildTestCache(t, enc, 600, 0, CacheOptions{})
	train, _, err := NewDatasets(c, blk)
	require.NoError(t, err)
	m, err := NewMasker(enc, mo)
	require.NoError(t, err)
	b, err := NewBatcher(train, m, bo)
	require.NoError(t, err)
	return b, train, m
}

func TestResumeEquality(t *testing.T) {
	enc := newFakeEncoder()
	c, _ := buildTestCache(t, enc, 600, 0, CacheOptions{})
	// fresh builds a batcher from nothing but the cache file, as a new process would.
	fresh := func(bo BatchOptions, blk BlockOptions, mo MaskOptions) *Batcher {
		c2, err := OpenCache(c.Path())
		require.NoError(t, err)
		t.Cleanup(func() { c2.Close() })
		train, _, err := NewDatasets(c2, blk)
		require.NoError(t, err)
		m, err := NewMasker(newFakeEncoder(), mo)
		require.NoError(t, err)
		b, err := NewBatcher(train, m, bo)
		require.NoError(t, err)
		return b
	}
	for _, ww := range []bool{false, true} {
		mo := DefaultMaskOptions()
		mo.WholeWord = ww
		bo := BatchOptions{BatchSize: 3, GradAccum: 2, Shuffle: true, Seed: 42}
		blk := BlockOptions{BlockSize: 64, ValidationFraction: 0.1, Seed: 42}
		b := fresh(bo, blk, mo)
		nb := b.NumBatches()
		total := 2*nb + nb/2 + 1

		// Uninterrupted run.
		var straight []*Batch
		for i := 0; i < total; i++ {
			x, err := b.Next()
			require.NoError(t, err)
			straight = append(straight, x)
		}

		// Interrupted at many points, epoch boundaries included: save the
		// position as JSON, rebuild everything from the cache file, resume.
		for stop := 0; stop < total; stop += 1 + stop%5 {
			first := fresh(bo, blk, mo)
			for i := 0; i < stop; i++ {
				_, err := first.Next()
				require.NoError(t, err)
			}
			saved, err := json.Marshal(first.Position())
			require.NoError(t, err)

			resumed := fresh(bo, blk, mo)
			var p Position
			require.NoError(t, json.Unmarshal(saved, &p))
			require.NoError(t, resumed.Seek(p))
			for i := stop; i < min(stop+4, total); i++ {
				x, err := resumed.Next()
				require.NoError(t, err)
				require.Equal(t, straight[i], x, "batch %d after resuming at %d", i, stop)
			}
		}

		// Resuming by optimizer step lands on the group's first micro-batch.
		require.NoError(t, b.SeekStep(straight[7].Step))
		x, err := b.Next()
		require.NoError(t, err)
		assert.Equal(t, straight[7].Step, x.Step)
		assert.Equal(t, 0, x.Micro)
		assert.Equal(t, straight[6], x)
	}
}

func TestBatcherEpochs(t *testing.T) {
	bo := BatchOptions{BatchSize: 4, GradAccum: 3, Shuffle: true, Seed: 1}
	blk := BlockOptions{BlockSize: 16, Seed: 1}
	b, ds, _ := testBatcher(t, bo, blk, DefaultMaskOptions())
	n := ds.Len()
	nb := b.NumBatches()
	require.Equal(t, (n+3)/4, nb)
	spe := b.StepsPerEpoch()
	require.Equal(t, (nb+2)/3, spe)

	// Every example once per epoch, in a different order each epoch.
	exampleKey := func(ex []int32) string { j, _ := json.Marshal(ex); return string(j) }
	var want []string
	var buf []int32
	for i := 0; i < n; i++ {
		buf, _ = ds.Example(i, buf)
		want = append(want, exampleKey(buf))
	}
	sort.Strings(want)
	var orders [][]string
	for e := 0; e < 2; e++ {
		var got []string
		var steps []int
		for k := 0; k < nb; k++ {
			x, err := b.Next()
			require.NoError(t, err)
			assert.Equal(t, Position{Epoch: e, Batch: k}, x.Position)
			assert.Equal(t, e*spe+k/3, x.Step)
			assert.Equal(t, k%3, x.Micro)
			if k/3 < nb/3 {
				assert.Equal(t, 3, x.GroupSize)
			} else {
				assert.Equal(t, nb%3, x.GroupSize)
			}
			tokens := 0
			for r := 0; r < x.Batch; r++ {
				var row []int32
				for tt := 0; tt < x.SeqLen; tt++ {
					i := r*x.SeqLen + tt
					id := x.InputIDs[i]
					if x.Labels[i] != IgnoreIndex {
						id = x.Labels[i]
					}
					if x.AttentionMask[i] == 1 {
						row = append(row, int32(id))
						tokens++
					}
				}
				got = append(got, exampleKey(row))
			}
			assert.Equal(t, tokens, x.Tokens)
			steps = append(steps, x.Step)
		}
		orders = append(orders, append([]string(nil), got...))
		sort.Strings(got)
		require.Equal(t, want, got, "epoch %d", e)
	}
	assert.NotEqual(t, orders[0], orders[1])
	assert.Equal(t, Position{Epoch: 2}, b.Position())
}

func TestBatcherNoShufflePadToBlock(t *testing.T) {
	bo := BatchOptions{BatchSize: 5, GradAccum: 1, PadToBlock: true, DropLast: true}
	blk := BlockOptions{BlockSize: 64, LineByLine: true}
	b, ds, _ := testBatcher(t, bo, blk, DefaultMaskOptions())
	assert.Equal(t, ds.Len()/5, b.NumBatches())
	x, err := b.At(Position{Epoch: 3, Batch: 0})
	require.NoError(t, err)
	assert.Equal(t, 64, x.SeqLen)
	padded := 0
	for r := 0; r < x.Batch; r++ { // no shuffle: batch 0 holds examples 0..4
		ex, err := ds.Example(r, nil)
		require.NoError(t, err)
		assert.Equal(t, int64(ex[0]), x.InputIDs[r*64])
		ones := 0
		for _, a := range x.AttentionMask[r*64 : (r+1)*64] {
			ones += int(a)
		}
		assert.Equal(t, len(ex), ones)
		padded += 64 - len(ex)
	}
	assert.Positive(t, padded)

	require.Error(t, b.Seek(Position{Epoch: -1}))
	require.Error(t, b.Seek(Position{Batch: b.NumBatches() + 1}))
	require.NoError(t, b.Seek(Position{Epoch: 1, Batch: b.NumBatches()}))
	assert.Equal(t, Position{Epoch: 2}, b.Position())
	_, err = b.At(Position{Batch: b.NumBatches()})
	assert.Error(t, err)
}

func TestNewBatcherErrors(t *testing.T) {
	enc := newFakeEncoder()
	c, _ := buildTestCache(t, enc, 50, 0, CacheOptions{})
	train, _, err := NewDatasets(c, BlockOptions{BlockSize: 16})
	require.NoError(t, err)
	other := newFakeEncoder()
	other.tokens = append(other.tokens, "extra")
	m, err := NewMasker(other, DefaultMaskOptions())
	require.NoError(t, err)
	_, err = NewBatcher(train, m, DefaultBatchOptions())
	assert.ErrorContains(t, err, "does not match")

	good, err := NewMasker(enc, DefaultMaskOptions())
	require.NoError(t, err)
	_, err = NewBatcher(train, good, BatchOptions{BatchSize: 0, GradAccum: 1})
	assert.ErrorContains(t, err, "BatchSize")
	_, err = NewBatcher(train, good, BatchOptions{BatchSize: 1, GradAccum: 0})
	assert.ErrorContains(t, err, "GradAccum")
	_, err = NewBatcher(train, good, BatchOptions{BatchSize: train.Len() + 1, GradAccum: 1, DropLast: true})
	assert.ErrorContains(t, err, "no full batch")
}

func BenchmarkBatcher(b *testing.B) {
	for _, tc := range []struct {
		name string
		ww   bool
	}{{"token", false}, {"wholeword", true}} {
		b.Run(tc.name, func(b *testing.B) {
			mo := DefaultMaskOptions()
			mo.WholeWord = tc.ww
			bt, _, _ := testBatcher(b, BatchOptions{BatchSize: 4, GradAccum: 1, Shuffle: true, Seed: 42}, BlockOptions{BlockSize: 512, Seed: 42}, mo)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := bt.Next(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*4*512)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
