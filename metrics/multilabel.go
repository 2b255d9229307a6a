package metrics

import (
	"fmt"
)

// MultiLabelOptions configures MultiLabel. The zero value counts every label
// and maps 0/0 to 0.
type MultiLabelOptions struct {
	// Ignore lists labels that are not counted (for example "O").
	Ignore []string
	// ZeroDivision is the value of a precision or recall with denominator 0: 0 or 1.
	ZeroDivision float64
}

// Validate reports an invalid field.
func (o MultiLabelOptions) Validate() error {
	if o.ZeroDivision != 0 && o.ZeroDivision != 1 {
		return fmt.Errorf("metrics: multi-label options: ZeroDivision %v, want 0 or 1", o.ZeroDivision)
	}
	return nil
}

// MultiLabelReport is the result of MultiLabel.
type MultiLabelReport struct {
	Labels   []string          // sorted union of gold and predicted labels (minus Ignore)
	PerLabel map[string]Scores // Support = TP+FN, Found = TP+FP, Correct = TP
	// Micro pools TP, FP and FN over labels; Macro is the unweighted mean of
	// the per-label scores (its F1 is the mean of per-label F1s).
	Micro, Macro Scores
	Tokens       int
	// SubsetAccuracy is the fraction of tokens whose predicted label set
	// equals the gold one (Sorower's exact match ratio), after Ignore.
	SubsetAccuracy float64
}

// MultiLabel computes label-based metrics (Sorower 2010, "A Literature Survey
// on Algorithms for Multi-label Learning", §7.1.2) for tokens that carry sets
// of labels, as SemClinBr does: gold[i][j] and pred[i][j] are the label sets
// of token j of sentence i (repeats inside a set count once). For each label
// λ, TP_λ counts tokens with λ in both sets, FP_λ in the predicted set only,
// FN_λ in the gold set only; micro precision = ΣTP/(ΣTP+ΣFP), micro recall =
// ΣTP/(ΣTP+ΣFN), F1 = 2PR/(P+R).
func MultiLabel(gold, pred [][][]string, opts MultiLabelOptions) (*MultiLabelReport, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if len(gold) != len(pred) {
		return nil, fmt.Errorf("metrics: multi-label: %d gold sentences, %d predicted", len(gold), len(pred))
	}
	ignore := map[string]bool{}
	for _, l := range opts.Ignore {
		ignore[l] = true
	}
	byLabel := map[string]*counts{}
	get := func(l string) *counts {
		c := byLabel[l]
		if c == nil {
			c = &counts{}
			byLabel[l] = c
		}
		return c
	}
	tokens, exact := 0, 0
	gs, ps := map[string]bool{}, map[string]bool{}
	for i := range gold {
		if len(gold[i]) != len(pred[i]) {
			return nil, fmt.Errorf("metrics: multi-label: sentence %d: %d gold tokens, %d predicted", i, len(gold[i]), len(pred[i]))
		}
		for j := range gold[i] {
			clear(gs)
			clear(ps)
			for _, l := range gold[i][j] {
				if !ignore[l] {
					gs[l] = true
				}
			}
			for _, l := range pred[i][j] {
				if !ignore[l] {
					ps[l] = true
				}
			}
			same := len(gs) == len(ps)
			for l := range gs {
				c := get(l)
				c.gold++
				if ps[l] {
					c.correct++
				} else {
					same = false
				}
			}
			for l := range ps {
				get(l).pred++
			}
			if same {
				exact++
			}
			tokens++
		}
	}
	r := &MultiLabelReport{Tokens: tokens}
	if tokens > 0 {
		r.SubsetAccuracy = float64(exact) / float64(tokens)
	}
	var tot counts
	r.Labels, r.PerLabel, r.Micro, tot = perTypeScores(byLabel, opts.ZeroDivision)
	r.Macro = Scores{Support: tot.gold, Found: tot.pred, Correct: tot.correct}
	if n := float64(len(r.Labels)); n > 0 {
		for _, l := range r.Labels {
			s := r.PerLabel[l]
			r.Macro.Precision += s.Precision / n
			r.Macro.Recall += s.Recall / n
			r.Macro.F1 += s.F1 / n
		}
	} else {
		r.Macro.Precision, r.Macro.Recall, r.Macro.F1 = opts.ZeroDivision, opts.ZeroDivision, opts.ZeroDivision
	}
	return r, nil
}
