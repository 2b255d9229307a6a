package pretrain

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/tokenize"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// modelSource is where a stage's model comes from: a directory or Hub name,
// or a config.json and vocab.txt to start from scratch.
type modelSource struct {
	name          string
	config, vocab string
}

func initialSource(o TrainOptions) modelSource {
	return modelSource{name: o.Model, config: o.Config, vocab: o.Vocab}
}

// loadModel builds the model and tokenizer of src on dev and checks that
// they match. A model from scratch is initialised after
// torch.manual_seed(seed), as HF Trainer seeds before model_init.
func loadModel(ctx context.Context, src modelSource, dev gotch.Device, seed int64) (m *bert.ForMaskedLM, tok *tokenize.Tokenizer, err error) {
	defer torchutil.Recover(&err)
	if src.name == "" {
		cfg, err := bert.LoadConfig(src.config)
		if err != nil {
			return nil, nil, fmt.Errorf("pretrain: %w", err)
		}
		if tok, err = tokenize.LoadVocabFile(src.vocab, tokenize.DefaultOptions()); err != nil {
			return nil, nil, fmt.Errorf("pretrain: %w", err)
		}
		if err := checkVocab(tok, cfg, src.vocab, src.config); err != nil {
			return nil, nil, err
		}
		torchutil.ManualSeed(int64(uint64(seed) & (1<<63 - 1)))
		if m, err = bert.NewForMaskedLM(cfg, dev); err != nil {
			return nil, nil, fmt.Errorf("pretrain: new model from %s: %w", src.config, err)
		}
		return m, tok, nil
	}
	dir, err := hub.Resolve(ctx, src.name, hub.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("pretrain: model %s: %w", src.name, err)
	}
	if tok, err = tokenize.Load(dir); err != nil {
		return nil, nil, fmt.Errorf("pretrain: model %s: %w", src.name, err)
	}
	cfg, err := bert.LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("pretrain: model %s: %w", src.name, err)
	}
	if err := checkVocab(tok, cfg, filepath.Join(dir, "vocab.txt"), filepath.Join(dir, "config.json")); err != nil {
		return nil, nil, err
	}
	if m, _, err = bert.LoadForMaskedLM(dir, bert.LoadOptions{Device: dev}); err != nil {
		return nil, nil, fmt.Errorf("pretrain: model %s: %w", src.name, err)
	}
	return m, tok, nil
}

// checkVocab checks that the tokenizer's ids fit the model: the
// vocabulary size equals vocab_size (the special tokens were found by
// tokenize, which fails without them).
func checkVocab(tok *tokenize.Tokenizer, cfg *bert.Config, vocabFile, configFile string) error {
	if tok.VocabSize() != cfg.VocabSize {
		return fmt.Errorf("pretrain: vocabulary %s has %d tokens but %s has vocab_size %d: the vocabulary does not belong to the model", vocabFile, tok.VocabSize(), configFile, cfg.VocabSize)
	}
	return nil
}

// batchTensors creates the model inputs and labels of b on dev, owned by s.
func batchTensors(s *tensors.Scope, b *Batch, dev gotch.Device) (bert.Inputs, *ts.Tensor, error) {
	shape := []int64{int64(b.Batch), int64(b.SeqLen)}
	var out [4]*ts.Tensor
	for i, data := range [][]int64{b.InputIDs, b.AttentionMask, b.TokenTypeIDs, b.Labels} {
		t, err := tensors.FromInt64s(data, shape, dev)
		if err != nil {
			return bert.Inputs{}, nil, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
		}
		out[i] = s.Add(t)
	}
	return bert.Inputs{InputIDs: out[0], AttentionMask: out[1], TokenTypeIDs: out[2]}, out[3], nil
}

// maskedTensors creates b.MaskedPositions and the labels there as (N)
// int64 tensors on dev, owned by s: bert.ForMaskedLM.LossAt's arguments,
// known on the host, so the loss needs no nonzero (a device→host sync on
// CUDA) to find them.
func maskedTensors(s *tensors.Scope, b *Batch, dev gotch.Device) (pos, labels *ts.Tensor, err error) {
	ys := make([]int64, len(b.MaskedPositions))
	for i, p := range b.MaskedPositions {
		if p < 0 || p >= int64(len(b.Labels)) {
			return nil, nil, fmt.Errorf("pretrain: batch %v: masked position %d outside the batch's %d tokens", b.Position, p, len(b.Labels))
		}
		ys[i] = b.Labels[p]
	}
	n := []int64{int64(len(ys))}
	if pos, err = tensors.FromInt64s(b.MaskedPositions, n, dev); err != nil {
		return nil, nil, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
	}
	s.Add(pos)
	if labels, err = tensors.FromInt64s(ys, n, dev); err != nil {
		return nil, nil, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
	}
	return pos, s.Add(labels), nil
}

// evalLoss computes the masked-LM loss of b (mean over its masked
// positions) without backward and reads it to the host.
func evalLoss(m *bert.ForMaskedLM, b *Batch, dev gotch.Device) (v float64, err error) {
	l, err := batchLossTensor(m, b, dev, false, nil)
	if err != nil {
		return 0, err
	}
	defer l.MustDrop()
	if v, err = l.Float64Value([]int64{}); err != nil {
		return 0, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
	}
	return v, nil
}

// batchLossTensor computes the masked-LM loss of b (mean over its masked
// positions) as a detached 0-dim float32 tensor on dev that the caller
// drops: nothing is read to the host, so on CUDA the call only queues
// work. With back it also back-propagates the loss through back (the
// engine's: divided by the accumulation group, scaled for fp16); nil
// means no backward. The model projects only b.MaskedPositions onto the
// vocabulary (bert.ForMaskedLM.LossAt); a batch without them (built by
// hand) falls back to finding the labelled positions
// (bert.ForMaskedLM.Loss).
func batchLossTensor(m *bert.ForMaskedLM, b *Batch, dev gotch.Device, train bool, back engine.Backward) (out *ts.Tensor, err error) {
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	in, labels, err := batchTensors(s, b, dev)
	if err != nil {
		return nil, err
	}
	var loss *ts.Tensor
	if len(b.MaskedPositions) > 0 {
		pos, ys, err := maskedTensors(s, b, dev)
		if err != nil {
			return nil, err
		}
		loss, err = m.LossAt(in, pos, ys, train)
	} else {
		loss, err = m.Loss(in, labels, train)
	}
	if err != nil {
		return nil, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
	}
	s.Add(loss)
	if back != nil {
		if out, err = back(loss); err != nil {
			return nil, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
		}
		return out, nil
	}
	if out, err = loss.Detach(false); err != nil {
		return nil, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
	}
	return out, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
