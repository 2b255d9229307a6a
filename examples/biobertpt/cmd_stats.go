package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/ner"
)

func init() {
	register(command{name: "stats", summary: "count documents, sentences, tokens and entities of a NER corpus (and its split)", run: runStats})
}

const statsUsage = "-corpus clinpt|semclinbr|conll|brat -data PATH [-json] [-split 0.6,0.2 -seed 42 [-write-split DIR]] [-lenient]"

// statsOutput is the JSON form of biobertpt stats.
type statsOutput struct {
	ner.Stats
	Seed  *int64          `json:"seed,omitempty"`
	Split *ner.SplitStats `json:"split,omitempty"`
}

func runStats(e *env, args []string) error {
	fs := newFlags(e, "stats", statsUsage)
	kind := fs.String("corpus", "", "corpus format: clinpt, semclinbr, conll or brat")
	data := fs.String("data", "", "corpus file, directory or (conll) glob")
	asJSON := fs.Bool("json", false, `print {"documents","sentences","tokens","entities":{TYPE:n}} (+ "split")`)
	split := fs.String("split", "", "train,dev fractions of a document-group split, e.g. 0.6,0.2 (test gets the rest)")
	seed := fs.Int64("seed", 42, "seed of the split")
	writeSplit := fs.String("write-split", "", "write the split's document lists (train.txt, dev.txt, test.txt) to this directory")
	lenient := fs.Bool("lenient", false, "turn format errors into warnings (counted, listed on stderr)")
	tagCol := fs.Int("tag-column", 0, "conll: 1-based tag column (0 = last, negative from the end)")
	scheme := fs.String("scheme", "IOB2", "conll: tagging scheme of the file (IOB2, IOB1, IO, IOE1, IOE2, IOBES, BILOU)")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if *kind == "" || *data == "" || fs.NArg() > 0 {
		return usagef("stats %s", statsUsage)
	}
	if *writeSplit != "" && *split == "" {
		return usagef("stats: -write-split needs -split")
	}
	var trainFrac, devFrac float64
	if *split != "" {
		var err error
		if trainFrac, devFrac, err = parseFractions(*split); err != nil {
			return err
		}
	}
	c, err := readCorpus(*kind, *data, *lenient, *tagCol, *scheme)
	if err != nil {
		return err
	}
	if len(c.Warnings) > 0 {
		fmt.Fprintf(e.stderr, "biobertpt stats: %d warning(s):\n", len(c.Warnings))
		for i, w := range c.Warnings {
			if i == 20 {
				fmt.Fprintf(e.stderr, "  … %d more\n", len(c.Warnings)-i)
				break
			}
			fmt.Fprintf(e.stderr, "  %s\n", w)
		}
	}
	out := statsOutput{Stats: ner.ComputeStats(c)}
	if *split != "" {
		s, err := ner.SplitDocuments(c, trainFrac, devFrac, *seed)
		if err != nil {
			return err
		}
		if *writeSplit != "" {
			if err := s.WriteFileLists(*writeSplit); err != nil {
				return err
			}
		}
		st := s.Stats()
		out.Split, out.Seed = &st, seed
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	return printStats(e.stdout, *kind, *data, out)
}

// readCorpus reads a corpus of the named format.
func readCorpus(kind, data string, lenient bool, tagCol int, scheme string) (*ner.Corpus, error) {
	switch strings.ToLower(kind) {
	case "clinpt":
		return ner.ReadCLINpt(data, ner.CLINptOptions{Lenient: lenient})
	case "semclinbr":
		return ner.ReadSemClinBr(data, ner.SemClinBrOptions{Lenient: lenient})
	case "brat":
		return ner.ReadBRAT(data, ner.BRATOptions{Lenient: lenient})
	case "conll":
		s, err := ner.ParseScheme(scheme)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return ner.ReadCoNLL(data, ner.CoNLLOptions{TagColumn: tagCol, Scheme: s, Lenient: lenient})
	}
	return nil, usagef("unknown corpus %q (want clinpt, semclinbr, conll or brat)", kind)
}

// parseFractions reads -split's "train,dev" (cli.ParseFractions).
func parseFractions(s string) (train, dev float64, err error) {
	if train, dev, err = cli.ParseFractions(s); err != nil {
		return 0, 0, usagef("-split %q: %v", s, err)
	}
	return train, dev, nil
}

func printStats(w io.Writer, kind, data string, out statsOutput) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "corpus %s (%s)\n", kind, data)
	fmt.Fprintf(bw, "documents %d  sentences %d  tokens %d  entities %d\n", out.Documents, out.Sentences, out.Tokens, out.EntityTotal())
	types := make([]string, 0, len(out.Entities))
	width := len("entity type")
	for t := range out.Entities {
		types = append(types, t)
		width = max(width, len(t))
	}
	sort.Strings(types)
	if out.Split == nil {
		fmt.Fprintf(bw, "\n%-*s %8s\n", width, "entity type", "count")
		for _, t := range types {
			fmt.Fprintf(bw, "%-*s %8d\n", width, t, out.Entities[t])
		}
		return bw.Flush()
	}
	sp := out.Split
	fmt.Fprintf(bw, "\nsplit by document group, seed %d\n", *out.Seed)
	fmt.Fprintf(bw, "%-*s %8s %8s %8s %8s\n", width, "", "train", "dev", "test", "all")
	row := func(name string, f func(ner.Stats) int) {
		fmt.Fprintf(bw, "%-*s %8d %8d %8d %8d\n", width, name, f(sp.Train), f(sp.Dev), f(sp.Test), f(out.Stats))
	}
	row("documents", func(s ner.Stats) int { return s.Documents })
	row("sentences", func(s ner.Stats) int { return s.Sentences })
	row("tokens", func(s ner.Stats) int { return s.Tokens })
	row("entities", func(s ner.Stats) int { return s.EntityTotal() })
	for _, t := range types {
		row(t, func(s ner.Stats) int { return s.Entities[t] })
	}
	return bw.Flush()
}
