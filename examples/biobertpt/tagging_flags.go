package main

import (
	"flag"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// taggingFlags are -decode (predict and eval-ner) and -splitter (predict
// only: eval-ner tags the corpus' own words).
type taggingFlags struct {
	splitter, decode *string
}

// bindTagging defines -decode and, with rawText, -splitter on fs.
func bindTagging(fs *flag.FlagSet, rawText bool) taggingFlags {
	f := taggingFlags{decode: fs.String("decode", "viterbi", "viterbi (the best tag sequence the scheme allows) or argmax (each word's best label)")}
	if rawText {
		f.splitter = fs.String("splitter", "", "word splitter for raw text: clinical, bert or whitespace (default: the one the model's ner_config.json records, else bert)")
	}
	return f
}

// rules validates the flags.
func (f taggingFlags) rules() []cli.Rule {
	r := []cli.Rule{cli.OneOf("decode", "viterbi", "argmax")}
	if f.splitter != nil {
		r = append(r, cli.OneOf("splitter", "", "clinical", "bert", "whitespace"))
	}
	return r
}

// options sets the tagger options the flags name (after rules passed).
func (f taggingFlags) options(o ner.TaggerOptions) ner.TaggerOptions {
	if f.splitter != nil {
		o.Splitter = tokenize.WordSplitter(*f.splitter)
	}
	o.Decode, _ = ner.ParseDecode(*f.decode)
	return o
}
