package pretrain

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// BlockOptions configures how cached sentences become training examples.
type BlockOptions struct {
	// BlockSize: tokens per example, special tokens included. Default 512
	// (the paper; HF run_mlm's max_seq_length).
	BlockSize int
	// LineByLine: each sentence is its own example, [CLS] ids [SEP],
	// truncated to BlockSize and padded by the batcher (HF run_mlm
	// --line_by_line). false (default): HF group_texts, see NewDatasets.
	LineByLine bool
	// KeepLast keeps the final, shorter block of grouped text (padded by the
	// batcher) instead of dropping it as HF does. Default false.
	KeepLast bool
	// ValidationFraction of the documents held out for validation, in
	// [0, 1). Default 0.05 (HF run_mlm's validation_split_percentage 5).
	ValidationFraction float64
	// Seed picks the held-out documents. Default 42.
	Seed uint64
}

// DefaultBlockOptions returns BlockSize 512, grouped text, remainder dropped,
// 5% validation documents, seed 42.
func DefaultBlockOptions() BlockOptions {
	return BlockOptions{BlockSize: 512, ValidationFraction: 0.05, Seed: 42}
}

// Validate checks the options.
func (o BlockOptions) Validate() error {
	if o.BlockSize < 3 {
		return fmt.Errorf("pretrain: block options: BlockSize %d < 3 ([CLS] token [SEP])", o.BlockSize)
	}
	if !(o.ValidationFraction >= 0 && o.ValidationFraction < 1) {
		return fmt.Errorf("pretrain: block options: ValidationFraction %v outside [0,1)", o.ValidationFraction)
	}
	return nil
}

// run is a maximal range of consecutive sentences of one split.
type run struct {
	lo, hi int    // sentences [lo, hi)
	start  uint64 // stream position (grouped) or example index (line by line) of sentence lo
}

// Dataset is one split (train or validation) of a Cache as a list of
// examples of at most BlockSize token ids each, special tokens included.
// Examples are computed on demand from the mapping; a Dataset holds
// O(number of runs of consecutive documents) memory. It is safe for
// concurrent use.
type Dataset struct {
	c      *Cache
	opts   BlockOptions
	runs   []run
	total  uint64 // grouped: stream length; line by line: number of sentences
	n      int
	nDocs  int
	nToken int64 // cached tokens in the split, specials excluded
}

// NewDatasets splits the documents of c into a training and a validation
// Dataset. The validation documents are the first
// round(ValidationFraction·D) of a permutation of the D documents drawn
// from a PCG seeded with Seed (at least one and at most D-1 when the
// fraction is positive); both splits keep the corpus order.
//
// Grouped mode follows HF run_mlm's group_texts: every sentence becomes
// [CLS] ids [SEP], the sentences of a split are concatenated in order and
// cut into blocks of exactly BlockSize tokens; the remainder shorter than a
// block is dropped (or kept as a short last block with KeepLast). HF
// concatenates within each 1000-line map batch and drops one remainder per
// batch; this concatenates the whole split and drops one remainder, so it
// loses fewer tokens and its blocks do not depend on a batch size. Empty
// lines, which HF would keep as [CLS][SEP], are skipped.
//
// Line-by-line mode gives one example per sentence, [CLS] ids [SEP] with
// the ids truncated to BlockSize-2 (HF's truncation=True).
func NewDatasets(c *Cache, opts BlockOptions) (train, validation *Dataset, err error) {
	if err := opts.Validate(); err != nil {
		return nil, nil, err
	}
	if c == nil || c.data == nil {
		return nil, nil, errors.New("pretrain: datasets: nil or closed cache")
	}
	d := c.NumDocuments()
	inVal := make([]bool, d)
	nVal := 0
	if opts.ValidationFraction > 0 {
		if d < 2 {
			return nil, nil, fmt.Errorf("pretrain: datasets: a validation split needs at least 2 documents, the corpus has %d (set ValidationFraction to 0)", d)
		}
		nVal = int(math.Round(opts.ValidationFraction * float64(d)))
		nVal = min(max(nVal, 1), d-1)
		perm := make([]int32, d)
		for i := range perm {
			perm[i] = int32(i)
		}
		r := rand.New(rand.NewPCG(opts.Seed, 0x76616c6964617465)) // "validate"
		r.Shuffle(d, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		for _, p := range perm[:nVal] {
			inVal[p] = true
		}
	}
	train = newDataset(c, opts, inVal, false)
	validation = newDataset(c, opts, inVal, true)
	if train.n == 0 {
		return nil, nil, fmt.Errorf("pretrain: datasets: the training split (%d tokens in %d documents) gives no block of %d tokens; lower BlockSize, set KeepLast or add text", train.nToken, train.nDocs, opts.BlockSize)
	}
	return train, validation, nil
}

func newDataset(c *Cache, opts BlockOptions, inVal []bool, want bool) *Dataset {
	ds := &Dataset{c: c, opts: opts}
	var pos uint64
	for doc := 0; doc < len(inVal); {
		if inVal[doc] != want {
			doc++
			continue
		}
		end := doc
		for end < len(inVal) && inVal[end] == want {
			end++
		}
		lo, _ := c.DocumentSentences(doc)
		_, hi := c.DocumentSentences(end - 1)
		ds.nDocs += end - doc
		if hi > lo {
			ds.runs = append(ds.runs, run{lo: lo, hi: hi, start: pos})
			ntok := c.seqOff[hi] - c.seqOff[lo]
			ds.nToken += int64(ntok)
			if opts.LineByLine {
				pos += uint64(hi - lo)
			} else {
				pos += ntok + 2*uint64(hi-lo)
			}
		}
		doc = end
	}
	ds.total = pos
	switch {
	case opts.LineByLine:
		ds.n = int(pos)
	case opts.KeepLast:
		ds.n = int((pos + uint64(opts.BlockSize) - 1) / uint64(opts.BlockSize))
	default:
		ds.n = int(pos / uint64(opts.BlockSize))
	}
	return ds
}

// Len is the number of examples.
func (d *Dataset) Len() int { return d.n }

// NumDocuments is the number of documents in the split.
func (d *Dataset) NumDocuments() int { return d.nDocs }

// NumTokens is the number of cached tokens in the split, special tokens excluded.
func (d *Dataset) NumTokens() int64 { return d.nToken }

// Specials returns the special ids of the underlying cache.
func (d *Dataset) Specials() Specials { return d.c.specials }

// BlockSize returns the maximum example length.
func (d *Dataset) BlockSize() int { return d.opts.BlockSize }

// Example appends example i (0 ≤ i < Len) to dst[:0] and returns it.
func (d *Dataset) Example(i int, dst []int32) ([]int32, error) {
	if i < 0 || i >= d.n {
		return dst[:0], fmt.Errorf("pretrain: example %d outside [0,%d)", i, d.n)
	}
	if d.c.data == nil {
		return dst[:0], errors.New("pretrain: example: cache closed")
	}
	dst = dst[:0]
	sp := d.c.specials
	if d.opts.LineByLine {
		r := d.runs[sort.Search(len(d.runs), func(k int) bool { return d.runs[k].start > uint64(i) })-1]
		ids := d.c.Sentence(r.lo + int(uint64(i)-r.start))
		if len(ids) > d.opts.BlockSize-2 {
			ids = ids[:d.opts.BlockSize-2]
		}
		dst = append(dst, int32(sp.CLS))
		for _, t := range ids {
			dst = append(dst, int32(t))
		}
		return append(dst, int32(sp.SEP)), nil
	}
	pos := uint64(i) * uint64(d.opts.BlockSize)
	end := min(pos+uint64(d.opts.BlockSize), d.total)
	ri := sort.Search(len(d.runs), func(k int) bool { return d.runs[k].start > pos }) - 1
	r := d.runs[ri]
	// streamAt(s) is the stream position of sentence s's [CLS] within run r.
	streamAt := func(r run, s int) uint64 {
		return r.start + (d.c.seqOff[s] - d.c.seqOff[r.lo]) + 2*uint64(s-r.lo)
	}
	s := r.lo + sort.Search(r.hi-r.lo, func(k int) bool { return streamAt(r, r.lo+k) > pos }) - 1
	off := pos - streamAt(r, s) // offset within [CLS] ids [SEP] of sentence s
	for pos < end {
		ids := d.c.Sentence(s)
		n := uint64(len(ids))
		if off == 0 && pos < end {
			dst = append(dst, int32(sp.CLS))
			off, pos = 1, pos+1
		}
		if off <= n && pos < end {
			k := min(n-(off-1), end-pos)
			for _, t := range ids[off-1 : off-1+k] {
				dst = append(dst, int32(t))
			}
			off, pos = off+k, pos+k
		}
		if off == n+1 && pos < end {
			dst = append(dst, int32(sp.SEP))
			pos++
		}
		off = 0
		s++
		if s == r.hi && pos < end {
			ri++
			r = d.runs[ri]
			s = r.lo
		}
	}
	return dst, nil
}
