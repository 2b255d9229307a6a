package metrics

import (
	"fmt"
	"sort"
)

// Options configures Evaluate. The zero value is valid: IOB2, Conlleval mode,
// zero division yields 0.
type Options struct {
	Scheme Scheme // IOB2; used by Strict mode (and BILOU in Lenient mode)
	Mode   Mode   // Conlleval
	// ZeroDivision is the value of a precision or recall whose denominator is
	// 0: 0 (default, seqeval's zero_division=0 and "warn") or 1.
	ZeroDivision float64
}

// Validate reports an invalid field.
func (o Options) Validate() error {
	if o.Scheme.Validate() != nil {
		return fmt.Errorf("metrics: options: Scheme %d unknown", int(o.Scheme))
	}
	if o.Mode < Conlleval || o.Mode > Strict {
		return fmt.Errorf("metrics: options: Mode %d unknown", int(o.Mode))
	}
	if o.ZeroDivision != 0 && o.ZeroDivision != 1 {
		return fmt.Errorf("metrics: options: ZeroDivision %v, want 0 or 1", o.ZeroDivision)
	}
	return nil
}

// Scores are precision, recall and F1 (fractions in [0, 1]) with their counts.
type Scores struct {
	Precision, Recall, F1 float64
	Support               int // gold chunks
	Found                 int // predicted chunks
	Correct               int // predicted chunks that equal a gold chunk
}

// Report is the result of Evaluate.
type Report struct {
	Options Options
	// Types lists the entity types in PerType, sorted (byte order): the union
	// of gold and predicted types.
	Types   []string
	PerType map[string]Scores
	// Micro counts all chunks together; Macro is the unweighted mean over
	// Types; Weighted the mean weighted by Support. Their Support, Found and
	// Correct are totals.
	Micro, Macro, Weighted Scores
	Tokens, CorrectTokens  int     // all tokens; tokens whose tag is right
	Accuracy               float64 // CorrectTokens / Tokens (0 if no tokens)
}

// FoundGold is the number of gold chunks.
func (r *Report) FoundGold() int { return r.Micro.Support }

// FoundPred is the number of predicted chunks.
func (r *Report) FoundPred() int { return r.Micro.Found }

// Correct is the number of correct chunks.
func (r *Report) Correct() int { return r.Micro.Correct }

// counts are per-type chunk counts.
type counts struct{ gold, pred, correct int }

// Evaluate compares predicted tag sequences with gold ones, sentence by
// sentence, and returns entity-level scores (docs/METRICS.md has the
// formulas). gold[i] and pred[i] must have equal lengths; the error names
// the first sentence that does not.
func Evaluate(gold, pred [][]string, opts Options) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if len(gold) != len(pred) {
		return nil, fmt.Errorf("metrics: evaluate: %d gold sentences, %d predicted", len(gold), len(pred))
	}
	for i := range gold {
		if len(gold[i]) != len(pred[i]) {
			return nil, fmt.Errorf("metrics: evaluate: sentence %d: %d gold tags, %d predicted", i, len(gold[i]), len(pred[i]))
		}
	}
	if opts.Mode == Conlleval {
		var c conllCounter
		for i := range gold {
			for j := range gold[i] {
				c.add(false, gold[i][j], pred[i][j])
			}
			c.add(true, "O", "O")
		}
		return c.report(opts), nil
	}
	if opts.Mode == Strict {
		for i := range gold {
			for k, seq := range [2][]string{gold[i], pred[i]} {
				if j := invalidStrict(seq, opts.Scheme); j >= 0 {
					return nil, fmt.Errorf("metrics: evaluate: sentence %d token %d: %s tag %q not allowed by %v",
						i, j, [2]string{"gold", "predicted"}[k], seq[j], opts.Scheme)
				}
			}
		}
	}
	byType := map[string]*counts{}
	get := func(t string) *counts {
		c := byType[t]
		if c == nil {
			c = &counts{}
			byType[t] = c
		}
		return c
	}
	tokens, okTokens := 0, 0
	for i := range gold {
		g := Entities(gold[i], opts.Scheme, opts.Mode)
		p := Entities(pred[i], opts.Scheme, opts.Mode)
		if opts.Mode == Strict { // seqeval compares sets
			g, p = dedupe(g), dedupe(p)
		}
		for _, e := range g {
			get(e.Type).gold++
		}
		for _, e := range p {
			get(e.Type).pred++
		}
		// Both lists are sorted by (Start, End, Type) and free of duplicates.
		for a, b := 0, 0; a < len(g) && b < len(p); {
			switch c := compareEntities(g[a], p[b]); {
			case c < 0:
				a++
			case c > 0:
				b++
			default:
				get(g[a].Type).correct++
				a++
				b++
			}
		}
		for j := range gold[i] {
			if gold[i][j] == pred[i][j] {
				okTokens++
			}
		}
		tokens += len(gold[i])
	}
	return buildReport(opts, byType, tokens, okTokens), nil
}

func compareEntities(a, b Entity) int {
	switch {
	case a.Start != b.Start:
		return a.Start - b.Start
	case a.End != b.End:
		return a.End - b.End
	case a.Type < b.Type:
		return -1
	case a.Type > b.Type:
		return 1
	}
	return 0
}

func sortEntities(es []Entity) {
	sort.Slice(es, func(i, j int) bool { return compareEntities(es[i], es[j]) < 0 })
}

// div is num/den, or zd when den is 0.
func div(num, den int, zd float64) float64 {
	if den == 0 {
		return zd
	}
	return float64(num) / float64(den)
}

func f1(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func scores(c counts, zd float64) Scores {
	p, r := div(c.correct, c.pred, zd), div(c.correct, c.gold, zd)
	return Scores{Precision: p, Recall: r, F1: f1(p, r), Support: c.gold, Found: c.pred, Correct: c.correct}
}

// perTypeScores scores each type of by, and all of them together (micro);
// names are the sorted types and tot the summed counts.
func perTypeScores(by map[string]*counts, zd float64) (names []string, per map[string]Scores, micro Scores, tot counts) {
	per = make(map[string]Scores, len(by))
	for t, c := range by {
		names = append(names, t)
		per[t] = scores(*c, zd)
		tot.gold += c.gold
		tot.pred += c.pred
		tot.correct += c.correct
	}
	sort.Strings(names)
	return names, per, scores(tot, zd), tot
}

func buildReport(opts Options, byType map[string]*counts, tokens, okTokens int) *Report {
	r := &Report{Options: opts, PerType: make(map[string]Scores, len(byType)), Tokens: tokens, CorrectTokens: okTokens}
	if tokens > 0 {
		r.Accuracy = float64(okTokens) / float64(tokens)
	}
	var tot counts
	r.Types, r.PerType, r.Micro, tot = perTypeScores(byType, opts.ZeroDivision)
	r.Macro = Scores{Support: tot.gold, Found: tot.pred, Correct: tot.correct}
	r.Weighted = r.Macro
	if n := len(r.Types); n > 0 {
		// np.average sums in order; the types are in sorted order, as seqeval's.
		var p, rc, f, wp, wr, wf float64
		for _, t := range r.Types {
			s := r.PerType[t]
			p += s.Precision
			rc += s.Recall
			f += s.F1
			w := float64(s.Support)
			wp += w * s.Precision
			wr += w * s.Recall
			wf += w * s.F1
		}
		r.Macro.Precision, r.Macro.Recall, r.Macro.F1 = p/float64(n), rc/float64(n), f/float64(n)
		if tot.gold > 0 {
			w := float64(tot.gold)
			r.Weighted.Precision, r.Weighted.Recall, r.Weighted.F1 = wp/w, wr/w, wf/w
		}
	} else {
		// No types at all: seqeval's macro of an empty array is NaN; we use ZeroDivision.
		zd := opts.ZeroDivision
		r.Macro.Precision, r.Macro.Recall, r.Macro.F1 = zd, zd, zd
	}
	if tot.gold == 0 {
		// seqeval: precision and F1 are zero_division if nothing is predicted
		// either, 0 otherwise; recall is zero_division.
		zd := opts.ZeroDivision
		r.Weighted.Recall = zd
		if tot.pred == 0 {
			r.Weighted.Precision, r.Weighted.F1 = zd, zd
		} else {
			r.Weighted.Precision, r.Weighted.F1 = 0, 0
		}
	}
	return r
}
