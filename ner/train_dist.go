package ner

import (
	"fmt"
	"math"
)

// Data-parallel evaluation: each rank predicts its contiguous share of the
// evaluation batches (engine.Run.EvalRange over the batches, which are
// those of a one-process run), then the ranks all-gather the predictions
// and every rank scores the whole split. The metrics are therefore exactly
// a one-process run's.

// evaluateShared tags d with m (decoded with the CRF weights w, nil
// without a CRF), sharded over the run's ranks, and scores it against
// d.gold.
func (tr *trainer) evaluateShared(m forwarder, d corpusData, w *crfWeights) (*Evaluation, error) {
	if tr.run == nil || tr.run.WorldSize() == 1 {
		return evaluateModel(m, tr.dev, tr.tok.PAD(), d, tr.ls.names, tr.o.Scheme, tr.o.EvalBatchSize, tr.o.Decode, w)
	}
	batches := evalBatches(d.exs, tr.o.EvalBatchSize)
	lo, hi := tr.run.EvalRange(len(batches))
	preds, err := predictExamples(m, d.exs, batches[lo:hi], tr.tok.PAD(), tr.dev)
	if err != nil {
		return nil, err
	}
	// This rank's predictions, one record per token: example, class,
	// probability bits, the number of label log-probabilities and their
	// float32 bits.
	var mine []int64
	for _, b := range batches[lo:hi] {
		for _, i := range b {
			for _, p := range preds[i] {
				mine = append(mine, int64(i), int64(p.class), int64(math.Float64bits(p.prob)), int64(len(p.logp)))
				for _, x := range p.logp {
					mine = append(mine, int64(math.Float32bits(x)))
				}
			}
		}
	}
	all, err := tr.run.AllGatherInt64(mine)
	if err != nil {
		return nil, fmt.Errorf("ner: evaluate: %w", err)
	}
	full := make([][]tokenPrediction, len(d.exs))
	for _, part := range all {
		for k := 0; k+3 < len(part); {
			i, nl := int(part[k]), int(part[k+3])
			if i < 0 || i >= len(full) || nl < 0 || k+4+nl > len(part) {
				return nil, fmt.Errorf("ner: evaluate: a rank sent a malformed prediction (window %d of %d)", i, len(full))
			}
			p := tokenPrediction{class: int(part[k+1]), prob: math.Float64frombits(uint64(part[k+2]))}
			if nl > 0 {
				p.logp = make([]float32, nl)
				for j := range p.logp {
					p.logp[j] = math.Float32frombits(uint32(part[k+4+j]))
				}
			}
			full[i] = append(full[i], p)
			k += 4 + nl
		}
	}
	pred, _ := sentenceTags(d.sws, d.exs, full, tr.ls.names, tr.o.Decode, w)
	return newEvaluation(d.words, d.gold, tr.o.Scheme, pred, schemeOfLabels(tr.ls.names))
}
