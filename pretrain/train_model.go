package pretrain

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/internal/optim"
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
func loadModel(ctx context.Context, src modelSource, dev gotch.Device, seed uint64) (m *bert.ForMaskedLM, tok *tokenize.Tokenizer, err error) {
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
		torchutil.ManualSeed(int64(seed & (1<<63 - 1)))
		if m, err = bert.NewForMaskedLM(cfg, dev); err != nil {
			return nil, nil, fmt.Errorf("pretrain: new model from %s: %w", src.config, err)
		}
		return m, tok, nil
	}
	dir, err := hub.ResolveContext(ctx, src.name, hub.Options{})
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

// optimParams lists the model's parameters for the optimizer.
func optimParams(m *bert.ForMaskedLM) []optim.Param {
	ps := m.Parameters()
	out := make([]optim.Param, len(ps))
	for i, p := range ps {
		out[i] = optim.Param{Name: p.Name, Tensor: p.Tensor}
	}
	return out
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
	l, err := batchLossTensor(m, b, dev, false, nil, 1)
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
// work. With a scaler it also back-propagates scaler.Scale(loss/scale)
// (a disabled scaler leaves loss/scale as is); nil means no backward. The model
// projects only b.MaskedPositions onto the vocabulary
// (bert.ForMaskedLM.LossAt); a batch without them (built by hand) falls
// back to finding the labelled positions (bert.ForMaskedLM.Loss).
func batchLossTensor(m *bert.ForMaskedLM, b *Batch, dev gotch.Device, train bool, scaler *optim.GradScaler, scale float64) (out *ts.Tensor, err error) {
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
	if scaler != nil {
		backLoss := loss
		if scale != 1 {
			sc := ts.FloatScalar(scale)
			backLoss, err = loss.DivScalar(sc, false)
			keepAlive(sc)
			if err != nil {
				return nil, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
			}
			s.Add(backLoss)
		}
		if backLoss, err = scaler.Scale(backLoss); err != nil {
			return nil, fmt.Errorf("pretrain: batch %v: %w", b.Position, err)
		}
		s.Add(backLoss)
		if err := backLoss.Backward(); err != nil {
			return nil, fmt.Errorf("pretrain: batch %v: backward: %w", b.Position, err)
		}
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
