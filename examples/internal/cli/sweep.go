package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/biobertpt-go/biobertpt/ner"
)

// SeedSweep runs a training program once per seed of seeds (a -seeds
// value such as "1,2,3"): run gets the program's args followed by
// "-seeds=", "-seed=N" and "-out=OUT/seed-N" (the last value of a flag
// wins). Then it writes OUT/summary.json and OUT/summary.md
// (ner.SummarizeSweep over the runs' test reports and metrics, with the
// sweep's wall-clock time) and prints the summary to w. A bad seed list is
// a usage error.
func SeedSweep(seeds, out string, args []string, run func(args []string) error, w io.Writer) error {
	list, err := ner.ParseSeeds(seeds)
	if err != nil {
		return Usagef("-seeds: %v", err)
	}
	if out == "" {
		return Usagef("-out is required")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	start := time.Now()
	for _, seed := range list {
		dir := ner.SeedDir(out, seed)
		fmt.Fprintf(w, "== seed %d: %s\n", seed, dir)
		a := append(append([]string(nil), args...), "-seeds=", "-seed="+strconv.FormatInt(seed, 10), "-out="+dir)
		if err := run(a); err != nil {
			return fmt.Errorf("seed %d: %w", seed, err)
		}
	}
	s, err := ner.SummarizeSweep(out, list, time.Since(start).Seconds())
	if err != nil {
		return err
	}
	if err := s.WriteFiles(out); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\nsummary in %s and %s\n", s.Markdown(), ner.SweepSummaryName, ner.SweepSummaryMDName)
	return nil
}
