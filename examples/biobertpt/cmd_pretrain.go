package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/pretrain"
)

func init() {
	register(command{name: "pretrain", summary: "continue masked-LM pretraining (BioBERTpt clin, bio, all) or train from scratch", run: runPretrain})
}

const pretrainUsage = "-variant clin|bio|all|custom -corpus PATHS (-model DIR|NAME | -config config.json -vocab vocab.txt) -out DIR [flags]"

// listFlag collects a repeatable flag whose values may be comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func runPretrain(e *env, args []string) error {
	fs := newFlags(e, "pretrain", pretrainUsage)
	d := pretrain.DefaultTrainOptions()
	var corpus, corpusClin, corpusBio listFlag
	variant := fs.String("variant", "custom", "clin, bio, all (clin then bio, continuing from clin) or custom")
	fs.Var(&corpus, "corpus", "corpus files or globs, comma-separated or repeated; entries may be name=path (clinical, scielo-health, scielo-biology, pubmed-titles)")
	fs.Var(&corpusClin, "corpus-clin", "files of the clin stage (variant all or clin)")
	fs.Var(&corpusBio, "corpus-bio", "files of the bio stage (variant all or bio)")
	cacheDir := fs.String("cache-dir", "", "token cache directory (default OUT/cache)")
	pf := cli.BindPretrain(fs, d)
	if err := cli.ParseFlags(fs, args, pf.Rules()...); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("pretrain: unexpected argument %q", fs.Arg(0))
	}
	if pf.Out == "" {
		return usagef("pretrain: -out is required")
	}
	o, err := pf.Options()
	if err != nil {
		return err
	}
	o.Variant, o.CacheDir = *variant, *cacheDir
	o.Log = e.stderr
	corpora := map[string][]string{}
	for _, c := range corpus {
		m, err := pretrain.ParseCorpusArg(c)
		if err != nil {
			return usagef("%v", err)
		}
		for k, v := range m {
			corpora[k] = append(corpora[k], v...)
		}
	}
	for _, sf := range []struct {
		stage string
		paths listFlag
	}{{"clin", corpusClin}, {"bio", corpusBio}} {
		for _, c := range sf.paths {
			for _, p := range strings.Split(c, ",") {
				if p = strings.TrimSpace(p); p != "" {
					corpora[sf.stage] = append(corpora[sf.stage], p)
				}
			}
		}
	}
	if len(corpora) == 0 {
		return usagef("pretrain: no corpus: give -corpus (or -corpus-clin and -corpus-bio for -variant all)")
	}
	o.Corpora = corpora
	if err := o.Validate(); err != nil {
		return usagef("%v", err)
	}

	// Ctrl-C or SIGTERM: finish the step, write a checkpoint, stop.
	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	res, err := pretrain.Train(ctx, o)
	if err != nil {
		return err
	}
	for _, s := range res.Stages {
		line := fmt.Sprintf("stage %s: %d steps", s.Name, s.Steps)
		if s.Skipped {
			line = fmt.Sprintf("stage %s: already done", s.Name)
		}
		if n := len(s.Evals); n > 0 {
			line += fmt.Sprintf(", eval_loss %.4f, perplexity %.2f", s.Evals[n-1].Loss, s.Evals[n-1].Perplexity)
		}
		fmt.Fprintln(e.stdout, line)
	}
	fmt.Fprintln(e.stdout, "model:", res.FinalDir)
	return nil
}
