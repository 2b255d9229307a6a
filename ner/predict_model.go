package ner

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// forwarder is the part of bert.ForTokenClassification prediction needs.
type forwarder interface {
	Forward(in bert.Inputs, train bool) (*ts.Tensor, error)
}

// batchTensors moves a batch's ids, type ids and mask to dev. The caller
// drops the scope.
func batchTensors(s *tensors.Scope, b batch, dev gotch.Device) (bert.Inputs, error) {
	shape := []int64{int64(b.b), int64(b.t)}
	ids, err := tensors.FromInt64s(b.ids, shape, dev)
	if err != nil {
		return bert.Inputs{}, err
	}
	s.Add(ids)
	mask, err := tensors.FromInt64s(b.mask, shape, dev)
	if err != nil {
		return bert.Inputs{}, err
	}
	s.Add(mask)
	types, err := tensors.FromInt64s(b.types, shape, dev)
	if err != nil {
		return bert.Inputs{}, err
	}
	s.Add(types)
	return bert.Inputs{InputIDs: ids, AttentionMask: mask, TokenTypeIDs: types}, nil
}

// predictExamples runs the model without gradients over the examples in
// the given batches and returns, per example, each token's most probable
// class and its softmax probability. It must run on the goroutine (OS
// thread) that owns the model.
func predictExamples(m forwarder, exs []example, batches [][]int, pad int, dev gotch.Device) (out [][]tokenPrediction, err error) {
	out = make([][]tokenPrediction, len(exs))
	err = torchutil.NoGrad(func() error {
		for _, idx := range batches {
			if len(idx) == 0 {
				continue
			}
			b := makeBatch(exs, idx, pad)
			if err := predictBatch(m, b, exs, out, dev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ner: predict: %w", err)
	}
	return out, nil
}

func predictBatch(m forwarder, b batch, exs []example, out [][]tokenPrediction, dev gotch.Device) (err error) {
	defer torchutil.Recover(&err)
	s := tensors.NewScope()
	defer s.Drop()
	in, err := batchTensors(s, b, dev)
	if err != nil {
		return err
	}
	logits, err := m.Forward(in, false) // (B, T, L)
	if err != nil {
		return err
	}
	s.Add(logits)
	logp, err := logits.LogSoftmax(-1, gotch.Float, false) // (B, T, L)
	if err != nil {
		return err
	}
	s.Add(logp)
	lp, err := tensors.Float32s(logp)
	if err != nil {
		return err
	}
	// A NaN or infinite logit makes its token's softmax NaN, whose argmax
	// would silently pass for a class.
	for _, x := range lp {
		if math.IsNaN(float64(x)) {
			return bert.CheckFiniteOutput("softmax of the logits", []float32{x})
		}
	}
	L := int(logp.MustSize()[2])
	for r, i := range b.examples {
		n := len(exs[i].ids)
		tp := make([]tokenPrediction, n)
		for j := 0; j < n; j++ {
			row := lp[(r*b.t+j)*L : (r*b.t+j+1)*L : (r*b.t+j+1)*L]
			k := 0
			for c, x := range row {
				if x > row[k] {
					k = c
				}
			}
			tp[j] = tokenPrediction{class: k, prob: math.Exp(float64(row[k])), logp: row}
		}
		out[i] = tp
	}
	return nil
}

// sentenceTags turns the per-example predictions back into one tag and one
// probability per word of every sentence (see wordPredictions), decoded
// with dec in the labels' scheme. Words without sub-tokens are tagged "O"
// with probability 1.
func sentenceTags(sws []sentenceWindows, exs []example, preds [][]tokenPrediction, labels []string, dec Decode, w *crfWeights) ([][]string, [][]float64) {
	bySent := make([][][]tokenPrediction, len(sws))
	for i, sw := range sws {
		bySent[i] = make([][]tokenPrediction, len(sw.windows))
	}
	for i, e := range exs {
		bySent[e.sent][e.win] = preds[i]
	}
	var tr transitions
	oIdx := -1
	if dec == DecodeViterbi {
		tr = schemeTransitions(labels, schemeOfLabels(labels))
		for i, l := range labels {
			if l == "O" {
				oIdx = i
			}
		}
	}
	tags := make([][]string, len(sws))
	probs := make([][]float64, len(sws))
	for si, sw := range sws {
		wp := wordPredictions(sw, bySent[si])
		if dec == DecodeViterbi && oIdx >= 0 {
			viterbiWords(wp, tr, oIdx, w)
		}
		tags[si] = make([]string, len(wp))
		probs[si] = make([]float64, len(wp))
		for w, p := range wp {
			if p.class < 0 || p.class >= len(labels) {
				tags[si][w], probs[si][w] = "O", 1
				continue
			}
			tags[si][w], probs[si][w] = labels[p.class], p.prob
		}
	}
	return tags, probs
}

// viterbiWords replaces each word's class by the constrained Viterbi path
// over the words' log probabilities (a word without sub-tokens is "O") and
// the CRF's scores (w, may be nil), and its probability by that class's.
// With a CRF the log-softmax equals the logits up to a constant per word,
// which does not change the best path.
func viterbiWords(wp []tokenPrediction, tr transitions, oIdx int, w *crfWeights) {
	if len(wp) == 0 {
		return
	}
	L := len(tr.start)
	scores := make([][]float64, len(wp))
	for i, p := range wp {
		row := make([]float64, L)
		if len(p.logp) != L {
			for l := range row {
				row[l] = math.Inf(-1)
			}
			row[oIdx] = 0
		} else {
			for l, x := range p.logp {
				row[l] = float64(x)
			}
		}
		scores[i] = row
	}
	for i, c := range viterbi(scores, tr, w) {
		if len(wp[i].logp) != L {
			wp[i] = tokenPrediction{class: c, prob: 1}
			continue
		}
		wp[i].class, wp[i].prob = c, math.Exp(scores[i][c])
	}
}
