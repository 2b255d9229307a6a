package main

import (
	"fmt"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/ner"
)

// trainNERSplit reads train-ner's corpus and splits it: -data split by
// -split's fractions and -seed, or the files -train, -dev and -test
// (ner.SplitFromFiles; without -dev, dev/(train+dev) of -train's document
// groups). It returns the corpus the labels and groups come from (the
// whole corpus, or the training file's) and prints the readers' warnings.
func trainNERSplit(e *env, kind, data string, files ner.SplitFiles, lenient bool, tagCol int, scheme string, trainFrac, devFrac float64, seed int64) (*ner.Corpus, ner.Split, error) {
	read := func(path string) (*ner.Corpus, error) {
		c, err := readCorpus(kind, path, lenient, tagCol, scheme)
		if err != nil {
			return nil, err
		}
		for _, w := range c.Warnings {
			fmt.Fprintln(e.stderr, "warning:", w)
		}
		return c, nil
	}
	if files.Train == "" {
		if files.Dev != "" || files.Test != "" {
			return nil, ner.Split{}, usagef("-dev and -test need -train (the training file)")
		}
		c, err := read(data)
		if err != nil {
			return nil, ner.Split{}, err
		}
		split, err := ner.SplitDocuments(c, trainFrac, devFrac, seed)
		return c, split, err
	}
	split, err := ner.SplitFromFiles(files, read, devFrac/(trainFrac+devFrac), seed)
	if err != nil {
		return nil, ner.Split{}, err
	}
	return split.Train, split, nil
}

// runSeedSweep runs train-ner once per seed of seedsS into OUT/seed-N
// and summarises the runs (cli.SeedSweep).
func runSeedSweep(e *env, args []string, seedsS, out string) error {
	return cli.SeedSweep(seedsS, out, args, func(a []string) error { return runTrainNER(e, a) }, e.stdout)
}
