package pretrain

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/biobertpt-go/biobertpt/internal/engine"
)

// Batch is one masked-LM micro-batch as plain row-major slices of shape
// (Batch, SeqLen), ready to become int64 tensors.
type Batch struct {
	InputIDs      []int64 // masked input ids, [PAD] after each example
	AttentionMask []int64 // 1 on tokens, 0 on padding
	TokenTypeIDs  []int64 // all 0 (single segment, as run_mlm)
	Labels        []int64 // original id at selected positions, IgnoreIndex elsewhere
	Batch, SeqLen int
	// MaskedPositions are the flat indices b·SeqLen+t of the labels that are
	// not IgnoreIndex, increasing: gather these rows before the vocabulary
	// projection to compute the MLM head on masked tokens only.
	MaskedPositions []int64

	// Position of this batch; Next advances past it.
	Position Position
	// Step is the optimizer step this micro-batch contributes to, counted
	// from 0 at epoch 0: Epoch·StepsPerEpoch + Batch/GradAccum.
	Step int
	// Micro is the index of this micro-batch within its accumulation group
	// and GroupSize the number of micro-batches in the group (GradAccum,
	// or fewer for the last group of an epoch). Step the optimizer after the
	// micro-batch with Micro == GroupSize-1.
	Micro, GroupSize int
	// Tokens is the number of non-padding tokens.
	Tokens int
}

// Position is where a Batcher stands: the next micro-batch to produce is
// number Batch (from 0) of epoch Epoch. Batches and masks are a pure
// function of (seed, Position), so saving a Position (it marshals to JSON
// as {"epoch":E,"batch":B}) is all a checkpoint needs to resume the data
// stream exactly: it is the serialised random state.
type Position struct {
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
}

// String returns "epoch E batch B".
func (p Position) String() string { return fmt.Sprintf("epoch %d batch %d", p.Epoch, p.Batch) }

// BatchOptions configures a Batcher.
type BatchOptions struct {
	// BatchSize: examples per micro-batch. Default 4 (the paper).
	BatchSize int
	// GradAccum: micro-batches per optimizer step. Default 1.
	GradAccum int
	// Shuffle the examples anew each epoch (PCG seeded with Seed and the
	// epoch). Default true; use false for validation.
	Shuffle bool
	// DropLast drops the last, smaller micro-batch of an epoch. Default false
	// (PyTorch DataLoader's default).
	DropLast bool
	// PadToBlock pads every batch to the dataset's BlockSize; false pads to
	// the longest example of the batch (HF's dynamic padding; grouped
	// blocks are all BlockSize long anyway except a KeepLast block).
	PadToBlock bool
	// Seed for shuffling and masking. Default 42.
	Seed uint64
	// Rank and WorldSize make the Batcher produce one rank's share of a
	// data-parallel run (WorldSize > 1): every rank shuffles the same order,
	// pads it with its first examples to a multiple of WorldSize, and takes
	// positions Rank, Rank+WorldSize, … (DistributedSampler). Batch k of
	// the rank is its rows of batch k of a one-process Batcher with batch
	// BatchSize·WorldSize, masks included: that batch is masked whole with
	// its random stream, and the rank keeps its rows, so that W ranks of
	// batch B see exactly what one process of batch W·B sees. 0 or 1: the
	// whole data set.
	Rank, WorldSize int
}

// DefaultBatchOptions returns batch 4, no accumulation, shuffled, seed 42.
func DefaultBatchOptions() BatchOptions {
	return BatchOptions{BatchSize: 4, GradAccum: 1, Shuffle: true, Seed: 42}
}

// Validate checks the options.
func (o BatchOptions) Validate() error {
	if o.BatchSize < 1 {
		return fmt.Errorf("pretrain: batch options: BatchSize %d < 1", o.BatchSize)
	}
	if o.GradAccum < 1 {
		return fmt.Errorf("pretrain: batch options: GradAccum %d < 1", o.GradAccum)
	}
	if o.WorldSize < 0 || o.Rank < 0 || (o.Rank > 0 && o.Rank >= o.WorldSize) {
		return fmt.Errorf("pretrain: batch options: Rank %d of WorldSize %d", o.Rank, o.WorldSize)
	}
	return nil
}

// Batcher produces masked micro-batches of a Dataset epoch after epoch.
// Each epoch visits every example once, in an order shuffled with
// PCG(Seed, epoch), and each batch is masked with a PCG seeded from (Seed,
// epoch, batch): the stream of batches depends only on the seed, so a run
// resumed with Seek sees exactly the batches and masks of an uninterrupted
// one. A Batcher is not safe for concurrent use; At is, on distinct
// Batchers sharing a Dataset and Masker.
type Batcher struct {
	ds         *Dataset
	m          *Masker
	opts       BatchOptions
	pos        Position
	order      []int32
	orderEpoch int
	buf        [][]int32
}

// NewBatcher returns a Batcher at epoch 0, batch 0. The masker's vocabulary
// must be the one the dataset's cache was built with.
func NewBatcher(ds *Dataset, m *Masker, opts BatchOptions) (*Batcher, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if ds == nil || m == nil {
		return nil, errors.New("pretrain: batcher: nil dataset or masker")
	}
	if ds.Specials() != m.Specials() {
		return nil, fmt.Errorf("pretrain: batcher: the masker's vocabulary %+v does not match the cache's %+v (cache built with another tokenizer?)", m.Specials(), ds.Specials())
	}
	if ds.Len() == 0 {
		return nil, errors.New("pretrain: batcher: empty dataset")
	}
	b := &Batcher{ds: ds, m: m, opts: opts, orderEpoch: -1}
	if b.NumBatches() == 0 {
		return nil, fmt.Errorf("pretrain: batcher: %d examples make no full batch of %d with DropLast", ds.Len(), opts.BatchSize)
	}
	return b, nil
}

// NumBatches is the number of micro-batches per epoch.
func (b *Batcher) NumBatches() int {
	m := b.shardLen()
	n := m / b.opts.BatchSize
	if !b.opts.DropLast && m%b.opts.BatchSize != 0 {
		n++
	}
	return n
}

// StepsPerEpoch is the number of optimizer steps per epoch,
// ceil(NumBatches/GradAccum) (HF Trainer steps on a short last group).
func (b *Batcher) StepsPerEpoch() int {
	return (b.NumBatches() + b.opts.GradAccum - 1) / b.opts.GradAccum
}

// Position returns the position of the next batch.
func (b *Batcher) Position() Position { return b.pos }

// Seek moves to p. Batch == NumBatches is normalised to the start of the next epoch.
func (b *Batcher) Seek(p Position) error {
	if p.Epoch < 0 || p.Batch < 0 || p.Batch > b.NumBatches() {
		return fmt.Errorf("pretrain: batcher: seek to %v: outside epochs ≥ 0, batches [0,%d]", p, b.NumBatches())
	}
	if p.Batch == b.NumBatches() {
		p = Position{Epoch: p.Epoch + 1}
	}
	b.pos = p
	return nil
}

// SeekStep moves to the first micro-batch of global optimizer step s.
func (b *Batcher) SeekStep(s int) error {
	if s < 0 {
		return fmt.Errorf("pretrain: batcher: seek to step %d < 0", s)
	}
	spe := b.StepsPerEpoch()
	return b.Seek(Position{Epoch: s / spe, Batch: (s % spe) * b.opts.GradAccum})
}

// Next returns the batch at Position and advances, to the next epoch after
// the last batch of one. It never ends: the caller counts epochs or steps.
func (b *Batcher) Next() (*Batch, error) {
	batch, err := b.At(b.pos)
	if err != nil {
		return nil, err
	}
	b.pos.Batch++
	if b.pos.Batch == b.NumBatches() {
		b.pos = Position{Epoch: b.pos.Epoch + 1}
	}
	return batch, nil
}

// At returns the batch at p without moving.
func (b *Batcher) At(p Position) (*Batch, error) {
	nb := b.NumBatches()
	if p.Epoch < 0 || p.Batch < 0 || p.Batch >= nb {
		return nil, fmt.Errorf("pretrain: batcher: batch %v: outside epochs ≥ 0, batches [0,%d)", p, nb)
	}
	order := b.epochOrder(p.Epoch)
	if b.opts.WorldSize > 1 {
		return b.shardAt(p, order)
	}
	lo := p.Batch * b.opts.BatchSize
	hi := min(lo+b.opts.BatchSize, b.ds.Len())
	if len(b.buf) < hi-lo {
		b.buf = append(b.buf, make([][]int32, hi-lo-len(b.buf))...)
	}
	ex := b.buf[:hi-lo]
	for k := range ex {
		i := lo + k
		if order != nil {
			i = int(order[i])
		}
		var err error
		if ex[k], err = b.ds.Example(i, ex[k]); err != nil {
			return nil, err
		}
	}
	seqLen := 0
	if b.opts.PadToBlock {
		seqLen = b.ds.BlockSize()
	}
	batch, err := b.mask(p, ex, seqLen)
	if err != nil {
		return nil, err
	}
	return b.place(batch, p), nil
}

// mask masks the examples of the batch at p with its random stream.
func (b *Batcher) mask(p Position, ex [][]int32, seqLen int) (*Batch, error) {
	rng := rand.New(rand.NewPCG(b.opts.Seed, engine.Mix(0x6d61736b, uint64(p.Epoch), uint64(p.Batch)))) // "mask"
	batch, err := b.m.Mask(ex, seqLen, rng)
	if err != nil {
		return nil, fmt.Errorf("pretrain: batcher: batch %v: %w", p, err)
	}
	return batch, nil
}

// place sets the batch's position, step and token count.
func (b *Batcher) place(batch *Batch, p Position) *Batch {
	nb := b.NumBatches()
	batch.Position = p
	ga := b.opts.GradAccum
	batch.Step = p.Epoch*b.StepsPerEpoch() + p.Batch/ga
	batch.Micro = p.Batch % ga
	batch.GroupSize = min(ga, nb-(p.Batch/ga)*ga)
	for _, a := range batch.AttentionMask {
		batch.Tokens += int(a)
	}
	return batch
}

// shardLen is the number of examples of this rank in an epoch.
func (b *Batcher) shardLen() int {
	if w := b.opts.WorldSize; w > 1 {
		return (b.ds.Len() + w - 1) / w
	}
	return b.ds.Len()
}

// shardAt is At for one rank of WorldSize: the rows Rank, Rank+W, … of
// the global batch p (BatchSize·W examples of the padded order), masked
// as a whole.
func (b *Batcher) shardAt(p Position, order []int32) (*Batch, error) {
	w, n := b.opts.WorldSize, b.ds.Len()
	lo := p.Batch * b.opts.BatchSize * w
	hi := min(lo+b.opts.BatchSize*w, b.shardLen()*w)
	ex := make([][]int32, hi-lo)
	for k := range ex {
		i := (lo + k) % n
		if order != nil {
			i = int(order[i])
		}
		var err error
		if ex[k], err = b.ds.Example(i, nil); err != nil {
			return nil, err
		}
	}
	seqLen := 0
	if b.opts.PadToBlock {
		seqLen = b.ds.BlockSize()
	}
	g, err := b.mask(p, ex, seqLen)
	if err != nil {
		return nil, err
	}
	var rows []int
	for r := b.opts.Rank; r < g.Batch; r += w {
		rows = append(rows, r)
	}
	t := g.SeqLen
	out := &Batch{Batch: len(rows), SeqLen: t}
	for _, r := range rows {
		out.InputIDs = append(out.InputIDs, g.InputIDs[r*t:(r+1)*t]...)
		out.AttentionMask = append(out.AttentionMask, g.AttentionMask[r*t:(r+1)*t]...)
		out.TokenTypeIDs = append(out.TokenTypeIDs, g.TokenTypeIDs[r*t:(r+1)*t]...)
		out.Labels = append(out.Labels, g.Labels[r*t:(r+1)*t]...)
	}
	for i, l := range out.Labels {
		if l != IgnoreIndex {
			out.MaskedPositions = append(out.MaskedPositions, int64(i))
		}
	}
	return b.place(out, p), nil
}

// epochOrder returns the example order of epoch e (nil: identity).
func (b *Batcher) epochOrder(e int) []int32 {
	if !b.opts.Shuffle {
		return nil
	}
	if b.orderEpoch == e {
		return b.order
	}
	n := b.ds.Len()
	if cap(b.order) < n {
		b.order = make([]int32, n)
	}
	b.order = b.order[:n]
	for i := range b.order {
		b.order[i] = int32(i)
	}
	r := rand.New(rand.NewPCG(b.opts.Seed, engine.Mix(0x73687566, uint64(e), 0))) // "shuf"
	r.Shuffle(n, func(i, j int) { b.order[i], b.order[j] = b.order[j], b.order[i] })
	b.orderEpoch = e
	return b.order
}
