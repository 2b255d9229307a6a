package ner

import "github.com/biobertpt-go/biobertpt/tokenize"

// sentenceBounds returns the rune spans [start, end) of the sentences of
// text, from tokenize.SplitSentences. Spans may leave whitespace between
// them; a word belongs to the last sentence starting at or before it.
func sentenceBounds(text string) [][2]int {
	spans := tokenize.SplitSentences(text)
	out := make([][2]int, 0, len(spans))
	for _, s := range spans {
		out = append(out, [2]int{s.Start, s.End})
	}
	if len(out) == 0 {
		out = append(out, [2]int{0, len([]rune(text))})
	}
	return out
}
