package ner

import (
	"context"
	"fmt"
	"sort"
)

// TaggerInfo describes a loaded Tagger: what a service reports about the
// models it serves.
type TaggerInfo struct {
	// Labels are the model's labels in id order (config.json's id2label).
	Labels []string
	// Types are the entity types of Labels (prefixes dropped), sorted,
	// each once.
	Types []string
	// Scheme is the scheme the labels are written in.
	Scheme Scheme
	// MaxLen is the longest window in sub-tokens, [CLS] and [SEP]
	// included; Stride the most sub-tokens consecutive windows share.
	MaxLen, Stride int
	// BatchSize is the most windows per forward pass.
	BatchSize int
	// Device is the device the model runs on ("cpu", "cuda:0").
	Device string
	// Splitter names how Predict splits text into words: "clinical",
	// "bert" or "whitespace" (tokenize.WordSplitter).
	Splitter string
}

// Info returns a description of the tagger's model and options.
func (t *Tagger) Info() TaggerInfo {
	return TaggerInfo{
		Labels:    t.Labels(),
		Types:     entityTypes(t.labels),
		Scheme:    t.scheme,
		MaxLen:    t.opts.MaxLen,
		Stride:    t.opts.Stride,
		BatchSize: t.opts.BatchSize,
		Device:    t.opts.Device,
		Splitter:  string(t.opts.Splitter),
	}
}

// entityTypes returns the sorted distinct types of labels ("B-C", "I-C",
// "O" give ["C"]).
func entityTypes(labels []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range labels {
		if _, typ, ok := splitTag(l); ok && typ != "" && !seen[typ] {
			seen[typ] = true
			out = append(out, typ)
		}
	}
	sort.Strings(out)
	return out
}

// CountTokens returns the number of WordPiece sub-tokens of text, without
// the [CLS] and [SEP] that every window adds: the cost of tagging text, for
// packing several texts into batches.
func (t *Tagger) CountTokens(text string) int {
	return len(t.tok.AppendIDs(nil, text))
}

// PredictTexts finds the entities of several raw texts, each exactly as
// Predict finds them (out[i] is Predict(texts[i])'s answer), with the
// sentences of all texts windowed together and tagged in shared forward
// passes of at most BatchSize windows, so that many short texts cost a few
// forward passes instead of one each. An empty text has no entities. ctx
// is checked before the work starts: a cancelled context returns its error
// and tags nothing; a forward pass already running is not interrupted.
func (t *Tagger) PredictTexts(ctx context.Context, texts []string) ([][]Entity, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ner: predict texts: %w", err)
	}
	var (
		words [][]string
		first = make([]int, len(texts)+1) // texts[i]'s sentences are words[first[i]:first[i+1]]
		sents = make([][]textSentence, len(texts))
	)
	for i, text := range texts {
		first[i] = len(words)
		sents[i] = splitText(text, t.opts.Splitter)
		for _, s := range sents[i] {
			words = append(words, s.wordTexts())
		}
	}
	first[len(texts)] = len(words)
	tags, probs, err := t.predict(words)
	if err != nil {
		return nil, err
	}
	out := make([][]Entity, len(texts))
	for i, text := range texts {
		for j, s := range sents[i] {
			k := first[i] + j
			out[i] = append(out[i], decodeEntities(text, s.words, tags[k], probs[k])...)
		}
	}
	return out, nil
}
