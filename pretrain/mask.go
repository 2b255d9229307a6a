package pretrain

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// IgnoreIndex is the label of positions that do not count in the loss
// (PyTorch CrossEntropyLoss's ignore_index, HF's -100).
const IgnoreIndex = -100

// MaskOptions configures dynamic masking (HF DataCollatorForLanguageModeling
// and DataCollatorForWholeWordMask).
type MaskOptions struct {
	// Probability that a token (or, with WholeWord, the share of tokens) is
	// selected for prediction. Default 0.15 (the paper, HF mlm_probability).
	Probability float64
	// MaskShare of the selected tokens replaced by [MASK]. Default 0.8.
	MaskShare float64
	// RandomShare of the selected tokens replaced by a random id drawn
	// uniformly from [0, VocabSize). Default 0.1. The remaining
	// 1-MaskShare-RandomShare are kept unchanged.
	RandomShare float64
	// WholeWord selects whole words: a token whose string starts with "##"
	// belongs to the word of the token before it. Default false.
	WholeWord bool
	// MaxPredictions caps the selected tokens per sequence with WholeWord
	// (HF's max_predictions). 0 means 512.
	MaxPredictions int
}

// DefaultMaskOptions returns 0.15 / 0.8 / 0.1, token-level masking.
func DefaultMaskOptions() MaskOptions {
	return MaskOptions{Probability: 0.15, MaskShare: 0.8, RandomShare: 0.1}
}

// Validate checks the options.
func (o MaskOptions) Validate() error {
	if !(o.Probability > 0 && o.Probability <= 1) {
		return fmt.Errorf("pretrain: mask options: Probability %v outside (0,1]", o.Probability)
	}
	if !(o.MaskShare >= 0 && o.RandomShare >= 0 && o.MaskShare+o.RandomShare <= 1) {
		return fmt.Errorf("pretrain: mask options: MaskShare %v and RandomShare %v must be ≥ 0 with a sum ≤ 1", o.MaskShare, o.RandomShare)
	}
	if o.MaxPredictions < 0 {
		return fmt.Errorf("pretrain: mask options: MaxPredictions %d < 0", o.MaxPredictions)
	}
	return nil
}

// Masker turns examples into masked-LM batches. It holds no random state:
// every call gets its generator, so that masks are a function of the
// caller's seed. It is safe for concurrent use.
type Masker struct {
	opts         MaskOptions
	sp           Specials
	special      []bool // by id: never selected (CLS, SEP, PAD, MASK)
	continuation []bool // by id: token string starts with "##" (WholeWord only)
}

// NewMasker returns a masker for the vocabulary v. [CLS], [SEP], [PAD] and
// [MASK] are never selected; [UNK] may be, as in HF (whose special-tokens
// mask from run_mlm marks only the added [CLS]/[SEP] and the padding).
func NewMasker(v Vocab, opts MaskOptions) (m *Masker, err error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if v == nil {
		return nil, errors.New("pretrain: masker: nil vocab")
	}
	sp, err := specialsOf(v)
	if err != nil {
		return nil, err
	}
	m = &Masker{opts: opts, sp: sp, special: make([]bool, sp.VocabSize)}
	for _, id := range []int{sp.CLS, sp.SEP, sp.PAD, sp.MASK} {
		m.special[id] = true
	}
	if opts.WholeWord {
		defer recoverAs(&err, "masker: vocab")
		m.continuation = make([]bool, sp.VocabSize)
		for id := range m.continuation {
			m.continuation[id] = strings.HasPrefix(v.Token(id), "##")
		}
	}
	return m, nil
}

// Specials returns the special ids the masker uses.
func (m *Masker) Specials() Specials { return m.sp }

// Options returns the masker's options.
func (m *Masker) Options() MaskOptions { return m.opts }

// Mask builds a batch from examples (token ids with special tokens, each at
// most seqLen long): ids are padded with [PAD] to seqLen (0 means the
// longest example), attention mask 1 on tokens and 0 on padding, token
// types 0. Selection follows HF torch_mask_tokens: each token that is not
// special is selected with probability Probability (or whole words are, see
// MaskOptions.WholeWord); a selected token gets label = its id and is
// replaced by [MASK] with probability MaskShare, by a uniform random id
// with probability RandomShare, or kept; all other labels are IgnoreIndex.
// MaskedPositions lists the flat indices (b·SeqLen+t) of the selected
// tokens in increasing order.
//
// With WholeWord (HF DataCollatorForWholeWordMask) the candidate words of a
// sequence are shuffled, and words are taken in that order, skipping a word
// that would overshoot, until round(len·Probability) tokens (Python's round, half to even) (at least 1,
// at most MaxPredictions) are selected, len counting [CLS] and [SEP] as HF
// does.
func (m *Masker) Mask(examples [][]int32, seqLen int, rng *rand.Rand) (*Batch, error) {
	if rng == nil {
		return nil, errors.New("pretrain: mask: nil random generator")
	}
	if len(examples) == 0 {
		return nil, errors.New("pretrain: mask: no examples")
	}
	longest := 0
	for _, e := range examples {
		longest = max(longest, len(e))
	}
	if seqLen == 0 {
		seqLen = longest
	}
	if longest > seqLen || seqLen <= 0 {
		return nil, fmt.Errorf("pretrain: mask: example of %d tokens longer than seqLen %d", longest, seqLen)
	}
	n := len(examples) * seqLen
	b := &Batch{
		InputIDs:      make([]int64, n),
		AttentionMask: make([]int64, n),
		TokenTypeIDs:  make([]int64, n),
		Labels:        make([]int64, n),
		Batch:         len(examples),
		SeqLen:        seqLen,
	}
	var words [][2]int
	var selected []bool
	for i, e := range examples {
		row := i * seqLen
		for t := 0; t < seqLen; t++ {
			b.Labels[row+t] = IgnoreIndex
			if t >= len(e) {
				b.InputIDs[row+t] = int64(m.sp.PAD)
				continue
			}
			id := e[t]
			if id < 0 || int(id) >= m.sp.VocabSize {
				return nil, fmt.Errorf("pretrain: mask: example %d position %d: id %d outside [0,%d)", i, t, id, m.sp.VocabSize)
			}
			b.InputIDs[row+t] = int64(id)
			b.AttentionMask[row+t] = 1
		}
		if m.opts.WholeWord {
			words, selected = m.selectWords(e, rng, words, selected)
			for t, s := range selected {
				if s {
					m.apply(b, row+t, rng)
				}
			}
			continue
		}
		for t, id := range e {
			if !m.special[id] && rng.Float64() < m.opts.Probability {
				m.apply(b, row+t, rng)
			}
		}
	}
	for i, l := range b.Labels {
		if l != IgnoreIndex {
			b.MaskedPositions = append(b.MaskedPositions, int64(i))
		}
	}
	return b, nil
}

// apply selects flat position i: label it and replace its input.
func (m *Masker) apply(b *Batch, i int, rng *rand.Rand) {
	b.Labels[i] = b.InputIDs[i]
	switch u := rng.Float64(); {
	case u < m.opts.MaskShare:
		b.InputIDs[i] = int64(m.sp.MASK)
	case u < m.opts.MaskShare+m.opts.RandomShare:
		b.InputIDs[i] = int64(rng.IntN(m.sp.VocabSize))
	}
}

// selectWords implements HF's _whole_word_mask for one sequence and
// returns the per-position selection (reusing the buffers).
func (m *Masker) selectWords(e []int32, rng *rand.Rand, words [][2]int, selected []bool) ([][2]int, []bool) {
	words = words[:0]
	selected = append(selected[:0], make([]bool, len(e))...)
	for t, id := range e {
		if m.special[id] {
			continue
		}
		if m.continuation[id] && len(words) > 0 && words[len(words)-1][1] == t {
			words[len(words)-1][1] = t + 1
			continue
		}
		words = append(words, [2]int{t, t + 1})
	}
	rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	maxPred := m.opts.MaxPredictions
	if maxPred == 0 {
		maxPred = 512
	}
	want := min(maxPred, max(1, int(math.RoundToEven(float64(len(e))*m.opts.Probability))))
	covered := 0
	for _, w := range words {
		if covered >= want {
			break
		}
		size := w[1] - w[0]
		if covered+size > want {
			continue
		}
		for t := w[0]; t < w[1]; t++ {
			selected[t] = true
		}
		covered += size
	}
	return words, selected
}
