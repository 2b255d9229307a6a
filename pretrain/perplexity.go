package pretrain

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/dist"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/tokenize"
	"github.com/sugarme/gotch"
)

// PerplexityOptions configures Perplexity. Start from
// DefaultPerplexityOptions().
type PerplexityOptions struct {
	// BlockSize: tokens per block, specials included. Default 512, capped
	// at the model's max_position_embeddings.
	BlockSize int
	// LineByLine evaluates each sentence as its own block. Default false.
	LineByLine bool
	// BatchSize: blocks per forward pass. Default 8.
	BatchSize int
	// MLMProbability: share of tokens masked. Default 0.15.
	MLMProbability float64
	// WholeWordMask masks whole words. Default false.
	WholeWordMask bool
	// Seed fixes the masks. Default 42: block i (in corpus order) is
	// masked with PCG(Seed, h("eval", i)), whatever the batch size, so the
	// same model, corpus, block size and seed always give the same number.
	Seed uint64
	// Corpus: how the files are read.
	Corpus CorpusOptions
	// CacheDir holds the token cache; "" means a temporary directory
	// removed afterwards.
	CacheDir string
	// Device. Default gotch.CPU.
	Device gotch.Device
}

// DefaultPerplexityOptions returns blocks of 512, batches of 8, 15%
// masking, seed 42, on the CPU.
func DefaultPerplexityOptions() PerplexityOptions {
	return PerplexityOptions{BlockSize: 512, BatchSize: 8, MLMProbability: 0.15, Seed: 42, Device: gotch.CPU}
}

// Validate names the first bad field.
func (o PerplexityOptions) Validate() error {
	switch {
	case o.BlockSize < 3:
		return fmt.Errorf("pretrain: perplexity options: BlockSize %d < 3", o.BlockSize)
	case o.BatchSize < 1:
		return fmt.Errorf("pretrain: perplexity options: BatchSize %d < 1", o.BatchSize)
	case !(o.MLMProbability > 0 && o.MLMProbability <= 1):
		return fmt.Errorf("pretrain: perplexity options: MLMProbability %v outside (0,1]", o.MLMProbability)
	}
	return o.Corpus.Validate()
}

// PerplexityResult is a masked-LM evaluation.
type PerplexityResult struct {
	// Loss is the mean cross-entropy (nats) over the masked tokens.
	Loss float64 `json:"loss"`
	// Perplexity is exp(Loss).
	Perplexity float64 `json:"perplexity"`
	// Tokens is the number of masked tokens predicted.
	Tokens int64 `json:"tokens"`
	// Blocks is the number of blocks evaluated.
	Blocks int `json:"blocks"`
}

// Perplexity evaluates the masked-LM loss of m on the corpus files (paths or
// globs) deterministically: the text is cut into blocks as for training
// (HF group_texts, the last shorter block kept) with no validation split,
// each block is masked with a generator seeded from o.Seed and its index
// (80% [MASK], 10% random, 10% kept), and the loss is averaged over all
// masked tokens:
//
//	Loss = Σ_b n_b·L_b / Σ_b n_b,   Perplexity = exp(Loss)
//
// with L_b the mean loss of batch b's n_b masked tokens. This is the
// "pseudo-perplexity" HF run_mlm reports (it averages per batch instead;
// the two agree when batches hold equally many masked tokens). Dropout is
// off.
func Perplexity(ctx context.Context, m *bert.ForMaskedLM, tok *tokenize.Tokenizer, paths []string, o PerplexityOptions) (res PerplexityResult, err error) {
	if err := o.Validate(); err != nil {
		return res, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if m == nil || tok == nil {
		return res, errors.New("pretrain: perplexity: nil model or tokenizer")
	}
	if o.Device == (gotch.Device{}) {
		o.Device = gotch.CPU
	}
	cfg := m.Config()
	if tok.VocabSize() != cfg.VocabSize {
		return res, fmt.Errorf("pretrain: perplexity: the tokenizer has %d tokens but the model's vocab_size is %d", tok.VocabSize(), cfg.VocabSize)
	}
	o.BlockSize = min(o.BlockSize, cfg.MaxPositionEmbeddings)
	files, err := ExpandPaths(paths)
	if err != nil {
		return res, err
	}
	cacheDir := o.CacheDir
	if cacheDir == "" {
		if cacheDir, err = os.MkdirTemp("", "biobertpt-ppl-"); err != nil {
			return res, fmt.Errorf("pretrain: perplexity: %w", err)
		}
		defer os.RemoveAll(cacheDir)
	}
	cache, err := BuildCache(ctx, files, tok, CacheOptions{Dir: cacheDir, Corpus: o.Corpus})
	if err != nil {
		return res, err
	}
	defer cache.Close()
	ds, _, err := NewDatasets(cache, BlockOptions{BlockSize: o.BlockSize, LineByLine: o.LineByLine, KeepLast: true, Seed: o.Seed})
	if err != nil {
		return res, err
	}
	mo := DefaultMaskOptions()
	mo.Probability, mo.WholeWord = o.MLMProbability, o.WholeWordMask
	masker, err := NewMasker(tok, mo)
	if err != nil {
		return res, err
	}
	loss, n, err := evaluate(ctx, m, evalSet{ds: ds, masker: masker, batch: o.BatchSize, seed: o.Seed}, o.Device)
	if err != nil {
		return res, err
	}
	return PerplexityResult{Loss: loss, Perplexity: math.Exp(loss), Tokens: n, Blocks: ds.Len()}, nil
}

// evalSet is a dataset evaluated with fixed masks.
type evalSet struct {
	ds     *Dataset
	masker *Masker
	batch  int
	seed   uint64
	// part and parts: with parts > 1, only the part-th of parts
	// contiguous shares of the batches (a rank's share of a data-parallel
	// evaluation, dist.EvalRange).
	part, parts int
}

// batches calls fn with the batches of the set in corpus order. Block i is
// masked with PCG(seed, h("eval", i)) on its own, so the masks do not
// depend on the batch size; a batch is padded to its longest block.
func (e evalSet) batches(ctx context.Context, fn func(*Batch) error) error {
	var buf []int32
	first, end := 0, e.ds.Len()
	if e.parts > 1 {
		nb := (e.ds.Len() + e.batch - 1) / e.batch
		b0, b1 := dist.EvalRange(nb, e.part, e.parts)
		first, end = b0*e.batch, min(b1*e.batch, e.ds.Len())
	}
	for lo := first; lo < end; lo += e.batch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pretrain: evaluate: %w", err)
		}
		hi := min(lo+e.batch, e.ds.Len())
		rows := make([]*Batch, 0, hi-lo)
		seqLen := 0
		for i := lo; i < hi; i++ {
			var err error
			if buf, err = e.ds.Example(i, buf); err != nil {
				return err
			}
			rng := rand.New(rand.NewPCG(e.seed, engine.Mix(0x6576616c, uint64(i)))) // "eval"
			r, err := e.masker.Mask([][]int32{buf}, 0, rng)
			if err != nil {
				return fmt.Errorf("pretrain: evaluate: block %d: %w", i, err)
			}
			rows = append(rows, r)
			seqLen = max(seqLen, r.SeqLen)
		}
		if err := fn(stackRows(rows, seqLen, e.masker.Specials().PAD)); err != nil {
			return err
		}
	}
	return nil
}

// stackRows joins one-row batches into one batch padded to seqLen.
func stackRows(rows []*Batch, seqLen, pad int) *Batch {
	n := len(rows) * seqLen
	b := &Batch{InputIDs: make([]int64, n), AttentionMask: make([]int64, n), TokenTypeIDs: make([]int64, n), Labels: make([]int64, n), Batch: len(rows), SeqLen: seqLen}
	for i, r := range rows {
		off := i * seqLen
		for t := 0; t < seqLen; t++ {
			j := off + t
			if t >= r.SeqLen {
				b.InputIDs[j], b.Labels[j] = int64(pad), IgnoreIndex
				continue
			}
			b.InputIDs[j], b.AttentionMask[j], b.TokenTypeIDs[j], b.Labels[j] = r.InputIDs[t], r.AttentionMask[t], r.TokenTypeIDs[t], r.Labels[t]
		}
		for _, p := range r.MaskedPositions {
			b.MaskedPositions = append(b.MaskedPositions, int64(off)+p)
		}
		b.Tokens += r.SeqLen
	}
	return b
}

// evaluate returns the masked-token-weighted mean loss over the set (no
// grad, no dropout) and the number of masked tokens.
func evaluate(ctx context.Context, m *bert.ForMaskedLM, e evalSet, dev gotch.Device) (loss float64, n int64, err error) {
	sum, n, err := evaluateSum(ctx, m, e, dev)
	if err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, errNoMasked
	}
	return sum / float64(n), n, nil
}

// errNoMasked: the validation set has no masked token.
var errNoMasked = errors.New("pretrain: evaluate: no token was masked (text too short?)")

// evaluateSum is evaluate's sum of the masked tokens' losses and their
// number (0 and 0 for a set, or a rank's share, without any).
func evaluateSum(ctx context.Context, m *bert.ForMaskedLM, e evalSet, dev gotch.Device) (sum float64, n int64, err error) {
	batches := 0
	err = torchutil.NoGrad(func() error {
		return e.batches(ctx, func(batch *Batch) error {
			k := int64(len(batch.MaskedPositions))
			if k == 0 {
				return nil
			}
			v, err := evalLoss(m, batch, dev)
			if err != nil {
				return err
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("pretrain: evaluate: batch %d: loss %v: %w (check the model's weights)", batches+1, v, bert.ErrNonFinite)
			}
			sum += v * float64(k)
			n += k
			batches++
			return nil
		})
	})
	if err != nil {
		return 0, 0, err
	}
	return sum, n, nil
}
