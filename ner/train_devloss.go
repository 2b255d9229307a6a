package ner

import (
	"fmt"

	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// devLoss returns the training loss of the current model on the dev split
// (the validation loss: dropout off, the class weights of training),
// averaged over the dev split's labelled sub-tokens, and false when the
// dev split has no labelled sub-token. Dev tags the model has no label
// for (absent from the training split) are left out of the loss.
func (tr *trainer) devLoss() (loss float64, ok bool, err error) {
	if tr.devLabelled == nil {
		ids := make([][]int, len(tr.devd.gold))
		for i, tags := range tr.devd.gold {
			ids[i] = make([]int, len(tags))
			for j, t := range tags {
				id, known := tr.ls.index[t]
				if !known {
					id = tokenize.IgnoreLabel
				}
				ids[i][j] = id
			}
		}
		exs, _, err := buildExamples(tr.tok, tr.devd.words, ids, tr.o.MaxLen, tr.o.Stride, tr.o.LabelAll)
		if err != nil {
			return 0, false, fmt.Errorf("ner: dev loss: %w", err)
		}
		tr.devLabelled = exs
	}
	sum, n := 0.0, 0
	err = torchutil.NoGrad(func() (err error) {
		defer torchutil.Recover(&err)
		for _, idx := range evalBatches(tr.devLabelled, tr.o.EvalBatchSize) {
			b := makeBatch(tr.devLabelled, idx, tr.tok.PAD())
			if b.labelToks == 0 {
				continue
			}
			s := tensors.NewScope()
			in, err := batchTensors(s, b, tr.dev)
			if err != nil {
				s.Drop()
				return err
			}
			labels, err := tensors.FromInt64s(b.labels, []int64{int64(b.b), int64(b.t)}, tr.dev)
			if err != nil {
				s.Drop()
				return err
			}
			s.Add(labels)
			l, err := tr.m.Loss(in, labels, false, tr.weights)
			if err != nil {
				s.Drop()
				return err
			}
			s.Add(l)
			v, err := l.Float64Value([]int64{})
			s.Drop()
			if err != nil {
				return err
			}
			sum += v * float64(b.labelToks)
			n += b.labelToks
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("ner: dev loss: %w", err)
	}
	if n == 0 {
		return 0, false, nil
	}
	return sum / float64(n), true, nil
}
