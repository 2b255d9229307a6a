package ner

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/biobertpt-go/biobertpt/tokenize"
)

// labelSet maps labels ("O", "B-C", …) to class ids and back.
type labelSet struct {
	names []string
	index map[string]int
}

func newLabelSet(names []string) (*labelSet, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("ner: empty label set")
	}
	ls := &labelSet{names: append([]string(nil), names...), index: make(map[string]int, len(names))}
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("ner: label %d is empty", i)
		}
		if _, dup := ls.index[n]; dup {
			return nil, fmt.Errorf("ner: label %q listed twice", n)
		}
		ls.index[n] = i
	}
	return ls, nil
}

// ids maps a sentence's tags to class ids; an unknown tag is an error.
func (ls *labelSet) ids(tags []string) ([]int, error) {
	out := make([]int, len(tags))
	for i, t := range tags {
		id, ok := ls.index[t]
		if !ok {
			return nil, fmt.Errorf("word %d: tag %q is not in the model's labels", i+1, t)
		}
		out[i] = id
	}
	return out, nil
}

// example is one window of one sentence, ready to batch.
type example struct {
	sent, win int   // sentence index in the input, window index in the sentence
	ids       []int // input_ids ([CLS] … [SEP])
	types     []int // token_type_ids
	labels    []int // class id per token, tokenize.IgnoreLabel where ignored; nil when predicting
}

// sentenceWindows is the windowing of one sentence, kept to map window
// predictions back to words.
type sentenceWindows struct {
	windows []tokenize.Window
	assign  []tokenize.WordSource // per word: which window/token predicts it
}

// windowSentence cuts a sentence into windows of at most maxLen sub-tokens
// and decides which window predicts each word (tokenize.AssignWords).
func windowSentence(tok *tokenize.Tokenizer, words []string, maxLen, stride int) (sentenceWindows, error) {
	wins, err := tok.EncodeWordsWindows(words, maxLen, stride)
	if err != nil {
		return sentenceWindows{}, err
	}
	return sentenceWindows{windows: wins, assign: tokenize.AssignWords(wins, len(words))}, nil
}

// continued reports, per window, whether its first content token continues
// a word cut at the end of the previous window (a single word longer than
// maxLen-2 sub-tokens). Such a token is not the word's first sub-token.
func continued(wins []tokenize.Window) []bool {
	out := make([]bool, len(wins))
	for k := 1; k < len(wins); k++ {
		prev, cur := wins[k-1].Encoding.WordIDs, wins[k].Encoding.WordIDs
		if len(prev) < 3 || len(cur) < 3 {
			continue
		}
		// The tokenizer only cuts inside a word when the previous window
		// holds that word alone; overlapping windows start on a word's
		// first sub-token.
		first, last := prev[1], prev[len(prev)-2]
		out[k] = first == last && cur[1] == last
	}
	return out
}

// windowLabels aligns word label ids to one window's tokens: the first
// sub-token of each word gets its label, the other sub-tokens get the label
// too when labelAll is set and tokenize.IgnoreLabel otherwise; [CLS], [SEP]
// and the continuation of a word cut by the previous window (cont) follow
// the same rule as a word's later sub-tokens.
func windowLabels(win tokenize.Window, wordLabels []int, labelAll, cont bool) []int {
	out := tokenize.AlignLabels(win.Encoding.WordIDs, wordLabels, labelAll)
	if cont && !labelAll {
		w := win.Encoding.WordIDs[1]
		for i := 1; i < len(out) && win.Encoding.WordIDs[i] == w; i++ {
			out[i] = tokenize.IgnoreLabel
		}
	}
	return out
}

// buildExamples windows every sentence and, when labels is non-nil, aligns
// its word label ids (labels[i] for sentences[i]) to the windows' tokens.
func buildExamples(tok *tokenize.Tokenizer, sentences [][]string, labels [][]int, maxLen, stride int, labelAll bool) ([]example, []sentenceWindows, error) {
	var exs []example
	sws := make([]sentenceWindows, len(sentences))
	for si, words := range sentences {
		sw, err := windowSentence(tok, words, maxLen, stride)
		if err != nil {
			return nil, nil, fmt.Errorf("sentence %d: %w", si+1, err)
		}
		sws[si] = sw
		var cont []bool
		if labels != nil {
			if len(labels[si]) != len(words) {
				return nil, nil, fmt.Errorf("sentence %d: %d words but %d labels", si+1, len(words), len(labels[si]))
			}
			cont = continued(sw.windows)
		}
		for wi, win := range sw.windows {
			if win.Encoding.Len() > maxLen {
				return nil, nil, fmt.Errorf("sentence %d window %d: %d tokens > max length %d", si+1, wi, win.Encoding.Len(), maxLen)
			}
			ex := example{sent: si, win: wi, ids: win.Encoding.IDs, types: win.Encoding.TypeIDs}
			if labels != nil {
				ex.labels = windowLabels(win, labels[si], labelAll, cont[wi])
			}
			exs = append(exs, ex)
		}
	}
	return exs, sws, nil
}

// batch is a padded batch in row-major int64 slices, shape (B, T).
type batch struct {
	b, t      int
	ids       []int64
	types     []int64
	mask      []int64
	labels    []int64 // nil when the examples carry no labels
	examples  []int   // indices into the example slice, one per row (padding rows of makeBatchShape have none)
	realToks  int     // tokens that are not padding
	labelToks int     // tokens whose label is not ignored
}

// makeBatch pads the examples idx to the longest one: input id pad, type 0,
// attention 0, label tokenize.IgnoreLabel.
func makeBatch(exs []example, idx []int, pad int) batch {
	t := 0
	for _, i := range idx {
		t = max(t, len(exs[i].ids))
	}
	return makeBatchShape(exs, idx, pad, len(idx), t)
}

// makeBatchShape is makeBatch with a fixed shape rows × t (rows ≥
// len(idx), t ≥ the longest example): the rows beyond idx are all padding
// (mask 0, labels IgnoreLabel), which changes no loss or gradient. The
// CUDA-graph path uses it, since a graph replays one shape.
func makeBatchShape(exs []example, idx []int, pad, rows, t int) batch {
	b := batch{b: rows, t: t, examples: append([]int(nil), idx...)}
	n := b.b * t
	b.ids, b.types, b.mask = make([]int64, n), make([]int64, n), make([]int64, n)
	withLabels := len(idx) > 0 && exs[idx[0]].labels != nil
	if withLabels {
		b.labels = make([]int64, n)
		for k := len(idx) * t; k < n; k++ {
			b.labels[k] = tokenize.IgnoreLabel
		}
	}
	for k := len(idx) * t; k < n; k++ {
		b.ids[k] = int64(pad)
	}
	for r, i := range idx {
		e := exs[i]
		for j := 0; j < t; j++ {
			k := r*t + j
			if j < len(e.ids) {
				b.ids[k], b.types[k], b.mask[k] = int64(e.ids[j]), int64(e.types[j]), 1
				b.realToks++
				if withLabels {
					b.labels[k] = int64(e.labels[j])
					if e.labels[j] != tokenize.IgnoreLabel {
						b.labelToks++
					}
				}
				continue
			}
			b.ids[k] = int64(pad)
			if withLabels {
				b.labels[k] = tokenize.IgnoreLabel
			}
		}
	}
	return b
}

// epochOrder returns the example indices in the order of one training
// epoch: a permutation seeded by (seed, epoch), so that a resumed run sees
// the same order as an uninterrupted one.
func epochOrder(n int, seed int64, epoch int) []int {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(epoch)+0x9e3779b97f4a7c15))
	return r.Perm(n)
}

// chunk cuts order into batches of at most size indices.
func chunk(order []int, size int) [][]int {
	var out [][]int
	for s := 0; s < len(order); s += size {
		out = append(out, order[s:min(s+size, len(order))])
	}
	return out
}

// evalBatches groups examples of similar length (sorted by length, stable)
// into batches of at most size, so that prediction pads little.
func evalBatches(exs []example, size int) [][]int {
	order := make([]int, len(exs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(exs[order[a]].ids) < len(exs[order[b]].ids) })
	return chunk(order, size)
}

// tokenPrediction is the model's choice at one token: the class with the
// highest probability, that probability, and the log probability of every
// class (for constrained decoding).
type tokenPrediction struct {
	class int
	prob  float64
	logp  []float32
}

// wordPredictions reads each word's prediction from the window that
// tokenize.AssignWords chose for it (the window where the word's first
// sub-token has the most context). preds[w][i] is the prediction at token i
// of window w. A word without sub-tokens gets class -1.
func wordPredictions(sw sentenceWindows, preds [][]tokenPrediction) []tokenPrediction {
	out := make([]tokenPrediction, len(sw.assign))
	for w, src := range sw.assign {
		if src.Window < 0 || src.Window >= len(preds) || src.Token < 0 || src.Token >= len(preds[src.Window]) {
			out[w] = tokenPrediction{class: -1}
			continue
		}
		out[w] = preds[src.Window][src.Token]
	}
	return out
}

// classWeights returns the loss weight of every label (see
// TrainOptions.ClassWeights and BalanceClasses), or nil when the loss is
// unweighted. counts[l] is the number of labelled tokens of label l.
func classWeights(labels []string, counts []int, explicit map[string]float64, balance bool) ([]float64, error) {
	if explicit == nil && !balance {
		return nil, nil
	}
	idx := make(map[string]bool, len(labels))
	for _, l := range labels {
		idx[l] = true
	}
	for l := range explicit {
		if !idx[l] {
			return nil, fmt.Errorf("ner: class weight for %q, which is not a label (labels %v)", l, labels)
		}
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	w := make([]float64, len(labels))
	for i, l := range labels {
		w[i] = 1
		if balance && counts[i] > 0 {
			w[i] = float64(total) / (float64(len(labels)) * float64(counts[i]))
		}
		if x, ok := explicit[l]; ok {
			w[i] *= x
		}
	}
	return w, nil
}
