package main

import (
	"flag"

	"github.com/biobertpt-go/biobertpt/internal/cli"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// taggingFlags are -splitter and -decode, shared by predict and eval-ner.
type taggingFlags struct {
	splitter, decode *string
}

// bindTagging defines -splitter and -decode on fs.
func bindTagging(fs *flag.FlagSet) taggingFlags {
	return taggingFlags{
		splitter: fs.String("splitter", "", "word splitter for raw text: clinical, bert or whitespace (default: the one the model's ner_config.json records, else bert)"),
		decode:   fs.String("decode", "viterbi", "viterbi (the best tag sequence the scheme allows) or argmax (each word's best label)"),
	}
}

// rules validates the flags.
func (f taggingFlags) rules() []cli.Rule {
	return []cli.Rule{cli.OneOf("splitter", "", "clinical", "bert", "whitespace"), cli.OneOf("decode", "viterbi", "argmax")}
}

// options sets the tagger options the flags name (after rules passed).
func (f taggingFlags) options(o ner.TaggerOptions) ner.TaggerOptions {
	o.Splitter = tokenize.WordSplitter(*f.splitter)
	o.Decode, _ = ner.ParseDecode(*f.decode)
	return o
}
