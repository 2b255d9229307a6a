package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

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

// runSeedSweep runs train-ner once per seed of seedsS, each with the
// command line args (-seeds emptied, -seed N, -out OUT/seed-N appended:
// the last value of a flag wins), then writes OUT/summary.json and
// summary.md and prints the summary.
func runSeedSweep(e *env, args []string, seedsS, out string) error {
	seeds, err := ner.ParseSeeds(seedsS)
	if err != nil {
		return usagef("-seeds: %v", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	start := time.Now()
	for _, seed := range seeds {
		dir := ner.SeedDir(out, seed)
		fmt.Fprintf(e.stdout, "== seed %d: %s\n", seed, dir)
		run := append(append([]string(nil), args...), "-seeds=", "-seed="+strconv.FormatInt(seed, 10), "-out="+dir)
		if err := runTrainNER(e, run); err != nil {
			return fmt.Errorf("seed %d: %w", seed, err)
		}
	}
	s, err := ner.SummarizeSweep(out, seeds, time.Since(start).Seconds())
	if err != nil {
		return err
	}
	if err := s.WriteFiles(out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n%s\nsummary in %s and %s\n", s.Markdown(), ner.SweepSummaryName, ner.SweepSummaryMDName)
	return nil
}
