package ner

import (
	"fmt"
	"strings"

	"github.com/biobertpt-go/biobertpt/tokenize"
)

// Entity is one entity found in a text by Tagger.Predict.
type Entity struct {
	// Type is the entity type (the tag without its "B-"/"I-" prefix).
	Type string `json:"type"`
	// Text is the entity's text, Text = text[Start:End] in runes (the
	// original bytes, from the first word's start to the last word's end).
	Text string `json:"text"`
	// Start and End are rune (Unicode code point) offsets into the text,
	// End exclusive: []rune(text)[Start:End] is Text.
	Start int `json:"start"`
	End   int `json:"end"`
	// Score is the mean, over the entity's words, of the probability the
	// model gave to the predicted tag at the word's first sub-token.
	Score float64 `json:"score"`
}

// String formats the entity as TYPE[start:end]"text".
func (e Entity) String() string { return fmt.Sprintf("%s[%d:%d]%q", e.Type, e.Start, e.End, e.Text) }

// textSentence is one sentence of a raw text split into words, with each
// word's offsets in the whole text.
type textSentence struct {
	words []tokenize.Word // Start/End and ByteStart/ByteEnd relative to the whole text
}

// splitText splits raw text into sentences (tokenize.SplitSentences) and
// each sentence into words with ws and returns the words' offsets into
// text. Sentences without words are left out.
func splitText(text string, ws tokenize.WordSplitter) []textSentence {
	var out []textSentence
	for _, sp := range tokenize.SplitSentences(text) {
		words := ws.Split(text[sp.ByteStart:sp.ByteEnd])
		if len(words) == 0 {
			continue
		}
		for i := range words {
			words[i].Start += sp.Start
			words[i].End += sp.Start
			words[i].ByteStart += sp.ByteStart
			words[i].ByteEnd += sp.ByteStart
		}
		out = append(out, textSentence{words: words})
	}
	return out
}

// wordTexts returns the words' strings.
func (s textSentence) wordTexts() []string {
	out := make([]string, len(s.words))
	for i, w := range s.words {
		out[i] = w.Text
	}
	return out
}

// schemeOfLabels returns the scheme a model's labels are written in: IOBES
// when a label has an "S-" or "E-" prefix, BILOU for "U-" or "L-", IO when
// no label has a "B-" prefix but some have "I-", and IOB2 otherwise.
func schemeOfLabels(labels []string) Scheme {
	has := map[string]bool{}
	for _, l := range labels {
		if p, _, ok := splitTag(l); ok {
			has[p] = true
		}
	}
	switch {
	case has["U"] || has["L"]:
		return BILOU
	case has["S"] || has["E"] && has["B"]:
		return IOBES
	case has["E"]:
		return IOE2
	case !has["B"] && has["I"]:
		return IO
	}
	return IOB2
}

// decodeEntities turns one sentence's predicted word tags and their
// probabilities into entities with offsets into text. Tag sequences are read
// as conlleval reads them (readSpans; for IOB2 the chunks of
// metrics.Entities in Conlleval mode): a word starts an entity when its
// prefix is B, S or U, when no entity is open, or when the open entity has
// another type; E, L, S and U close it. So an "I-X" after "O" starts an
// entity rather than being dropped.
func decodeEntities(text string, words []tokenize.Word, tags []string, probs []float64) []Entity {
	var out []Entity
	for _, sp := range readSpans(tags) {
		first, last := words[sp.Start], words[sp.End-1]
		score := 0.0
		for i := sp.Start; i < sp.End; i++ {
			score += probs[i]
		}
		out = append(out, Entity{
			Type:  sp.Type,
			Text:  text[first.ByteStart:last.ByteEnd],
			Start: first.Start,
			End:   last.End,
			Score: score / float64(sp.End-sp.Start),
		})
	}
	return out
}

// evalTags returns a sentence's tags as metrics.Evaluate reads them in
// Conlleval mode: IOB2 tags unchanged (so that the counts equal
// conlleval.pl's on the same file); other schemes rewritten to IOB2 through
// the conlleval reading of their entities, since conlleval.pl does not know
// S-, E-, U- or L- prefixes.
func evalTags(tags []string, s Scheme) []string {
	if s == IOB2 {
		return tags
	}
	out, err := EncodeSpans(readSpans(tags), len(tags), IOB2)
	if err != nil { // readSpans never yields invalid spans
		return tags
	}
	return out
}

// writeConllevalSentence writes one sentence in conlleval's input format:
// "word gold predicted" lines (white space in a word becomes "_"), then a
// blank line.
func writeConllevalSentence(b *strings.Builder, words, gold, pred []string) {
	for i, w := range words {
		fmt.Fprintf(b, "%s %s %s\n", conllField(w), conllField(gold[i]), conllField(pred[i]))
	}
	b.WriteString("\n")
}

// conllField makes s one whitespace-free field of conlleval's format:
// whitespace inside a word or an entity type (SemClinBr's "Chemicals and
// Drugs") becomes "_", and an empty word "_".
func conllField(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "_"
	}
	return s
}
