package tokenize

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// TrainOptions configures TrainWordPiece. Start from DefaultTrainOptions().
type TrainOptions struct {
	VocabSize     int  // target size, specials included; default 30000
	MinFrequency  int  // a merge needs a pair seen this often; default 2
	LimitAlphabet int  // keep at most this many characters, most frequent first; default 1000
	Lowercase     bool // normalize like an uncased tokenizer (lowercase + strip accents); default false
}

// DefaultTrainOptions returns BERT-like defaults.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{VocabSize: 30000, MinFrequency: 2, LimitAlphabet: 1000}
}

// Validate reports the first invalid field.
func (o TrainOptions) Validate() error {
	switch {
	case o.VocabSize < 6:
		return fmt.Errorf("tokenize: train options: VocabSize %d < 6", o.VocabSize)
	case o.MinFrequency < 1:
		return fmt.Errorf("tokenize: train options: MinFrequency %d < 1", o.MinFrequency)
	case o.LimitAlphabet < 1:
		return fmt.Errorf("tokenize: train options: LimitAlphabet %d < 1", o.LimitAlphabet)
	}
	return nil
}

// TrainWordPiece learns a WordPiece vocabulary from texts the way HF's
// WordPieceTrainer does (BPE merges over "##"-prefixed continuation
// symbols): words come from this package's normalizer and pre-tokenizer;
// the vocabulary is [PAD] [UNK] [CLS] [SEP] [MASK], the alphabet (each kept
// character and its "##" form, sorted), then merged pieces in merge order.
// Each step merges the most frequent adjacent pair (weighted by word
// count); ties go to the lexicographically smallest (left, right) pair, so
// the result is deterministic. Training stops at VocabSize or when no pair
// reaches MinFrequency. Cost: O(merges × distinct words), meant for
// in-domain vocabularies of moderate corpora.
func TrainWordPiece(texts []string, o TrainOptions) (*Tokenizer, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	sp := splitter{strip: o.Lowercase, lower: o.Lowercase, chinese: true}
	c := wordCounter{counts: counts}
	for _, t := range texts {
		sp.run(t, 0, 0, &c)
	}
	specials := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}
	// alphabet
	charFreq := map[rune]int{}
	for w, n := range counts {
		for _, r := range w {
			charFreq[r] += n
		}
	}
	chars := make([]rune, 0, len(charFreq))
	for r := range charFreq {
		chars = append(chars, r)
	}
	sort.Slice(chars, func(i, j int) bool {
		if charFreq[chars[i]] != charFreq[chars[j]] {
			return charFreq[chars[i]] > charFreq[chars[j]]
		}
		return chars[i] < chars[j]
	})
	if len(chars) > o.LimitAlphabet {
		chars = chars[:o.LimitAlphabet]
	}
	keep := map[rune]bool{}
	for _, r := range chars {
		keep[r] = true
	}
	sort.Slice(chars, func(i, j int) bool { return chars[i] < chars[j] })
	tokens := append([]string(nil), specials...)
	have := map[string]bool{}
	for _, s := range specials {
		have[s] = true
	}
	addTok := func(s string) {
		if !have[s] {
			have[s] = true
			tokens = append(tokens, s)
		}
	}
	for _, r := range chars {
		addTok(string(r))
	}
	for _, r := range chars {
		addTok(contPrefix + string(r))
	}
	// words as symbol sequences, sorted for determinism
	type word struct {
		syms []string
		n    int
	}
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	sort.Strings(keys)
	words := make([]word, 0, len(keys))
	for _, w := range keys {
		var syms []string
		ok := true
		for i, r := range w {
			if !keep[r] {
				ok = false
				break
			}
			if i == 0 {
				syms = append(syms, string(r))
			} else {
				syms = append(syms, contPrefix+string(r))
			}
		}
		if ok {
			words = append(words, word{syms, counts[w]})
		}
	}
	type pair struct{ a, b string }
	for len(tokens) < o.VocabSize {
		pc := map[pair]int{}
		for _, w := range words {
			for i := 0; i+1 < len(w.syms); i++ {
				pc[pair{w.syms[i], w.syms[i+1]}] += w.n
			}
		}
		var best pair
		bestN := 0
		for p, n := range pc {
			if n > bestN || (n == bestN && (p.a < best.a || (p.a == best.a && p.b < best.b))) {
				best, bestN = p, n
			}
		}
		if bestN < o.MinFrequency {
			break
		}
		merged := best.a + strings.TrimPrefix(best.b, contPrefix)
		addTok(merged)
		for k := range words {
			s := words[k].syms
			out := s[:0]
			for i := 0; i < len(s); i++ {
				if i+1 < len(s) && s[i] == best.a && s[i+1] == best.b {
					out = append(out, merged)
					i++
					continue
				}
				out = append(out, s[i])
			}
			words[k].syms = out
		}
	}
	opts := DefaultOptions()
	opts.Lowercase = o.Lowercase
	return New(tokens, opts, "TrainWordPiece")
}

type wordCounter struct{ counts map[string]int }

func (c *wordCounter) word(w []byte, _ int, _ []origin) {
	if utf8.Valid(w) {
		c.counts[string(w)]++
	}
}
