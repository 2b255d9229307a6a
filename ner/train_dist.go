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

// evaluateShared tags d with m, sharded over the run's ranks, and scores
// it against d.gold.
func (tr *trainer) evaluateShared(m forwarder, d corpusData) (*Evaluation, error) {
	if tr.run == nil || tr.run.WorldSize() == 1 {
		return evaluateModel(m, tr.dev, tr.tok.PAD(), d, tr.ls.names, tr.o.Scheme, tr.o.EvalBatchSize)
	}
	batches := evalBatches(d.exs, tr.o.EvalBatchSize)
	lo, hi := tr.run.EvalRange(len(batches))
	preds, err := predictExamples(m, d.exs, batches[lo:hi], tr.tok.PAD(), tr.dev)
	if err != nil {
		return nil, err
	}
	// This rank's predictions as (example, class, probability bits)
	// triples, one per token.
	var mine []int64
	for _, b := range batches[lo:hi] {
		for _, i := range b {
			for _, p := range preds[i] {
				mine = append(mine, int64(i), int64(p.class), int64(math.Float64bits(p.prob)))
			}
		}
	}
	all, err := tr.run.AllGatherInt64(mine)
	if err != nil {
		return nil, fmt.Errorf("ner: evaluate: %w", err)
	}
	full := make([][]tokenPrediction, len(d.exs))
	for _, part := range all {
		for k := 0; k+2 < len(part); k += 3 {
			i := int(part[k])
			if i < 0 || i >= len(full) {
				return nil, fmt.Errorf("ner: evaluate: a rank sent a prediction for window %d of %d", i, len(full))
			}
			full[i] = append(full[i], tokenPrediction{class: int(part[k+1]), prob: math.Float64frombits(uint64(part[k+2]))})
		}
	}
	pred, _ := sentenceTags(d.sws, d.exs, full, tr.ls.names)
	return newEvaluation(d.words, d.gold, tr.o.Scheme, pred, schemeOfLabels(tr.ls.names))
}
