package bench

import (
	"fmt"
	"math/rand/v2"
)

// Batch is one (Batch, Seq) batch in row-major int64 slices, as
// hf_bench.py's make_batch builds it.
type Batch struct {
	Batch, Seq    int
	InputIDs      []int64
	AttentionMask []int64
	TokenTypeIDs  []int64
	Labels        []int64 // NER: class ids; MLM: original ids at masked positions, -100 elsewhere
}

// Special ids of MakeBatch for a vocabulary of more than 2000 ids (mBERT's);
// smaller vocabularies use 1, 2, 3 and word ids from 4.
const (
	CLS        = 101
	SEP        = 102
	MASK       = 103
	FirstWord  = 1000
	MaskProb   = 0.15
	ignoreMLM  = -100
	smallVocab = 2000
)

// specials returns [CLS], [SEP], [MASK] and the first word id for vocab v.
func specials(v int) (cls, sep, mask, lo int64) {
	if v > smallVocab {
		return CLS, SEP, MASK, FirstWord
	}
	return 1, 2, 3, 4
}

// MakeBatch builds hf_bench.py's random batch for task on a vocabulary of
// vocab ids, deterministically from seed (see the package doc for the
// recipe; an MLM batch in which no position was drawn gets position 1
// labelled, so that the loss is never NaN). It does not touch libtorch.
func MakeBatch(task string, batch, seq, vocab int, seed uint64) (*Batch, error) {
	if task != TaskNER && task != TaskMLM {
		return nil, fmt.Errorf("%w: task %q: want ner or mlm", ErrUsage, task)
	}
	if batch < 1 || seq < 2 || vocab < 5 {
		return nil, fmt.Errorf("%w: batch %d, seq %d, vocab %d: want >= 1, >= 2, >= 5", ErrUsage, batch, seq, vocab)
	}
	cls, sep, mask, lo := specials(vocab)
	r := rand.New(rand.NewPCG(seed, 0x62656e6368)) // "bench"
	n := batch * seq
	b := &Batch{
		Batch: batch, Seq: seq,
		InputIDs:      make([]int64, n),
		AttentionMask: make([]int64, n),
		TokenTypeIDs:  make([]int64, n),
		Labels:        make([]int64, n),
	}
	for i := range b.InputIDs {
		b.InputIDs[i] = lo + r.Int64N(int64(vocab)-lo) // randint(1000, V)
		b.AttentionMask[i] = 1
	}
	for row := 0; row < batch; row++ {
		b.InputIDs[row*seq] = cls
		b.InputIDs[row*seq+seq-1] = sep
	}
	switch task {
	case TaskNER:
		for i := range b.Labels {
			b.Labels[i] = r.Int64N(NumLabels) // randint(0, NUM_LABELS)
		}
	case TaskMLM:
		for i, id := range b.InputIDs {
			if r.Float64() < MaskProb { // rand < 0.15
				b.Labels[i] = id
				b.InputIDs[i] = mask
			} else {
				b.Labels[i] = ignoreMLM
			}
		}
		if b.Labelled() == 0 { // a NaN loss would poison the weights: label position 1
			b.Labels[1], b.InputIDs[1] = b.InputIDs[1], mask
		}
	}
	return b, nil
}

// MaskedPositions returns the flat indices b·Seq+t of the labels that are
// not -100, increasing, and those labels: bert.ForMaskedLM.LossAt's
// arguments, computed on the host so that the step reads nothing back.
func (b *Batch) MaskedPositions() (positions, labels []int64) {
	for i, l := range b.Labels {
		if l != ignoreMLM {
			positions = append(positions, int64(i))
			labels = append(labels, l)
		}
	}
	return positions, labels
}

// Labelled returns the number of labels that are not -100.
func (b *Batch) Labelled() int {
	n := 0
	for _, l := range b.Labels {
		if l != ignoreMLM {
			n++
		}
	}
	return n
}
