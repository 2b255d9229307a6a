package ner

import (
	"errors"
	"fmt"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/ts"
)

// staticStep is the fixed-shape path of the trainer, on which
// TrainOptions.CUDAGraph records the forward and backward pass of one
// micro-batch as a CUDA graph and replays it for every later one.
//
// Every micro-batch is padded to BatchSize × MaxLen (makeBatchShape: the
// padding rows and columns are masked and unlabelled, so the loss and the
// gradients are those of the unpadded batch) and copied into the same
// device buffers, which the graph reads. The graph covers the loss and
// backward (scaled by 1/GradAccum, accumulating into the parameters'
// gradients in place); clipping, the fused AdamW step and zeroing stay
// eager, so the learning rate may change every step. A micro-batch with
// no label to learn is skipped on the host, as in the eager path, and an
// incomplete accumulation group (the last of an epoch) runs eagerly.
//
// Capture follows torch's whole-network recipe: on the first micro-batch
// of a group (gradients zero), on a side stream, one eager forward and
// backward (lazy initialisation; its gradients are zeroed again), then the
// recorded one, then a replay that computes the micro-batch.
type staticStep struct {
	in     [4]*ts.Tensor // input ids, attention mask, token types, labels: (BatchSize, MaxLen) on the device
	loss   *ts.Tensor    // the recorded loss (batch mean, unscaled), rewritten by each replay
	graph  *bbshim.Graph // nil: not captured (yet), or fixed shapes without a graph
	useGPU bool          // record a graph (TrainOptions.CUDAGraph)
}

// errNoGraphs is returned when TrainOptions.CUDAGraph cannot be honoured.
var errNoGraphs = errors.New("ner: train: CUDAGraph needs a CUDA device and bbshim's CUDA graphs (a CUDA libtorch and the CUDA runtime headers at setup)")

// close frees the graph and the buffers.
func (st *staticStep) close() {
	if st == nil {
		return
	}
	st.graph.Free()
	st.graph = nil
	tensors.DropAll(st.in[0], st.in[1], st.in[2], st.in[3], st.loss)
	st.in, st.loss = [4]*ts.Tensor{}, nil
}

// staticForwardBackward is forwardBackward on the fixed-shape path: it
// returns the batch's unscaled mean loss as a new device tensor (nil when
// nothing is labelled) and the number of real tokens.
func (tr *trainer) staticForwardBackward(idx []int, first bool, back engine.Backward) (loss *ts.Tensor, toks int, err error) {
	st := tr.static
	b := makeBatchShape(tr.train.exs, idx, tr.tok.PAD(), tr.o.BatchSize, tr.o.MaxLen)
	if b.labelToks == 0 {
		return nil, b.realToks, nil
	}
	if err := tr.loadStatic(b); err != nil {
		return nil, 0, err
	}
	switch {
	case st.graph != nil:
		if err := st.graph.Replay(); err != nil {
			return nil, 0, fmt.Errorf("ner: train: %w", err)
		}
	case st.useGPU && first:
		if err := tr.capture(back); err != nil {
			return nil, 0, fmt.Errorf("ner: train: CUDA graph: %w", err)
		}
		if err := st.graph.Replay(); err != nil {
			return nil, 0, fmt.Errorf("ner: train: %w", err)
		}
	default: // eager on the static buffers (before the capture, or no graph)
		if err := tr.staticEager(back); err != nil {
			return nil, 0, err
		}
	}
	if loss, err = st.loss.DetachCopy(false); err != nil { // the next replay rewrites st.loss
		return nil, 0, fmt.Errorf("ner: train: %w", err)
	}
	return loss, b.realToks, nil
}

// loadStatic copies b into the static buffers (allocated on first use).
func (tr *trainer) loadStatic(b batch) (err error) {
	st := tr.static
	shape := []int64{int64(b.b), int64(b.t)}
	for i, data := range [][]int64{b.ids, b.mask, b.types, b.labels} {
		x, err := tensors.FromInt64s(data, shape, tr.dev) // pinned, asynchronous upload
		if err != nil {
			return fmt.Errorf("ner: train: %w", err)
		}
		if st.in[i] == nil {
			st.in[i] = x
			continue
		}
		st.in[i].Copy_(x) // device to device, ordered on the stream
		x.MustDrop()
	}
	return nil
}

// staticEager runs the loss and backward on the static buffers and keeps
// the loss in st.loss.
func (tr *trainer) staticEager(back engine.Backward) error {
	st := tr.static
	in, labels := tr.staticInputs()
	l, err := tr.lossBackward(in, labels, back)
	if err != nil {
		return err
	}
	tensors.DropAll(st.loss)
	st.loss = l
	return nil
}

// capture records the loss and backward on the static buffers as a CUDA
// graph (see staticStep). The gradients must be zero (the first
// micro-batch of an accumulation group).
func (tr *trainer) capture(back engine.Backward) (err error) {
	st := tr.static // newTrainer has checked CUDA and bbshim's graphs
	g, err := bbshim.NewGraph(tr.dev.Value)
	if err != nil {
		return err
	}
	var l *ts.Tensor
	err = g.Capture(func() error {
		if err := tr.staticEager(back); err != nil {
			return err
		}
		tensors.DropAll(st.loss) // freed before the capture, not during it
		st.loss = nil
		return optim.ZeroGrads(tr.m.Parameters()) // forget the warmup's gradients
	}, func() (err error) {
		in, labels := tr.staticInputs()
		l, err = tr.lossBackward(in, labels, back)
		return err
	})
	if err != nil {
		tensors.DropAll(l)
		g.Free()
		return err
	}
	st.loss, st.graph = l, g
	return nil
}

// staticInputs returns the static buffers as model inputs and labels.
func (tr *trainer) staticInputs() (in bert.Inputs, labels *ts.Tensor) {
	st := tr.static
	return bert.Inputs{InputIDs: st.in[0], AttentionMask: st.in[1], TokenTypeIDs: st.in[2]}, st.in[3]
}
