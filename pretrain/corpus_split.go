package pretrain

import "github.com/biobertpt-go/biobertpt/tokenize"

// SentenceSplitName names SplitSentences in cache keys
// (CorpusOptions.SplitName); bump it when tokenize's rules change.
const SentenceSplitName = "tokenize.SplitSentences/v1"

// SplitSentences is tokenize.SplitSentences (Portuguese clinical sentence
// rules) as a SplitFunc, for raw notes:
//
//	CorpusOptions{Split: pretrain.SplitSentences, SplitName: pretrain.SentenceSplitName}
func SplitSentences(text string) [][2]int {
	spans := tokenize.SplitSentences(text)
	out := make([][2]int, len(spans))
	for i, s := range spans {
		out[i] = [2]int{s.ByteStart, s.ByteEnd}
	}
	return out
}

// *tokenize.Tokenizer is the Encoder of real runs.
var _ Encoder = (*tokenize.Tokenizer)(nil)
