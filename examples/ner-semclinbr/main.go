// Command ner-semclinbr fine-tunes BERT models for named-entity recognition
// on SemClinBr (Oliveira et al. 2022), a multi-label corpus of Brazilian
// clinical notes annotated with UMLS semantic groups, the way BioBERTpt did
// (Schneider et al. 2020, §3.2): one binary model per entity group (its
// entities against O), trained on 60% of the notes with the best dev epoch
// kept, their test predictions merged into per-word label sets, and
// label-based micro scores computed over the test tokens (metrics.MultiLabel,
// Sorower 2010): for each group λ, TP_λ counts test words that carry λ in
// both the gold and the merged predicted set, FP_λ and FN_λ in only one of
// them; micro P = ΣTP/(ΣTP+ΣFP), R = ΣTP/(ΣTP+ΣFN), F1 = 2PR/(P+R).
//
// Usage:
//
//	go run ./examples/ner-semclinbr -data data/semclinbr -model pucpr/biobertpt-all -out results/SemClinBr/biobertpt-all
//
// -data is a directory of SemClinBr XML notes (docs/DATA.md). The output
// directory is a result directory for examples/compare (its micro F1 and
// per-group scores are the label-based ones).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"unicode"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/hub"
	"github.com/biobertpt-go/biobertpt/metrics"
	"github.com/biobertpt-go/biobertpt/ner"
)

func init() {
	// libtorch keeps grad mode and its last error per OS thread: all torch
	// work runs on the main goroutine, pinned to one thread.
	runtime.LockOSThread()
}

func main() { cli.Main("ner-semclinbr", run) }

// usagef returns a command-line error (exit status 2).
var usagef = cli.Usagef

const usage = `usage: ner-semclinbr -data DIR|-train-file DIR [-dev-file DIR] [-test-file DIR] -out DIR [-model NAME|DIR] [-groups G1,G2,...] [flags]

Fine-tunes one binary NER model per SemClinBr group (DIR holds the XML notes),
split 60/20/20 by note (or as given by -train-file, -dev-file and
-test-file), merges the groups' test predictions into label sets
and scores them label-based (micro over test words). Writes into -out:
groups/<group>/ (each group's model and entity-level test report),
test_report.{txt,json} (label-based, per group and micro), test_entities.txt
(each group's entity-level scores), test_predictions.tsv (word, gold labels,
predicted labels), split/ and results.json (for examples/compare).

Flags (training defaults: the paper's):
`

// Manifest is the results.json that examples/compare reads.
type Manifest struct {
	Model     string   `json:"model"`
	Corpus    string   `json:"corpus"`
	ModelPath string   `json:"model_path"`
	Data      string   `json:"data"`
	Seed      int64    `json:"seed"`
	Groups    []string `json:"groups"`
	Metric    string   `json:"metric"`
}

// run is the program; main calls it with the process's arguments and streams.
func run(args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlagSet("ner-semclinbr", usage, stderr)
	data := fs.String("data", "", "SemClinBr directory of XML notes (required)")
	groupsFlag := fs.String("groups", "", "comma-separated groups to train (default: every label of the training split)")
	train := cli.BindNERTrain(fs, ner.DefaultTrainOptions(), cli.NERHelp{Docs: "notes", Malformed: "annotations", PerGroup: true})
	if err := cli.ParseFlags(fs, args, train.Rules()...); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected argument %q", fs.Arg(0))
	case *data == "" && train.Files().Train == "":
		return usagef("-data is required (a directory of SemClinBr XML notes, see docs/DATA.md), or -train-file")
	}
	o, err := train.Options(stderr)
	if err != nil {
		return err
	}
	o.Card.Datasets = []string{"SemClinBr"}

	_, split, err := train.ReadSplit(*data, func(path string) (*ner.Corpus, error) {
		c, err := ner.ReadSemClinBr(path, ner.SemClinBrOptions{Lenient: train.Lenient})
		if err != nil {
			return nil, err
		}
		for _, w := range c.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
		return c, nil
	})
	if err != nil {
		return err
	}
	if split.Test == nil || len(split.Test.Documents) == 0 {
		return errors.New("the test split is empty: nothing to evaluate")
	}
	st := split.Stats()
	fmt.Fprintf(stdout, "SemClinBr: %d notes; train %d / dev %d / test %d notes, %d / %d / %d sentences\n",
		st.Train.Documents+st.Dev.Documents+st.Test.Documents, st.Train.Documents, st.Dev.Documents, st.Test.Documents,
		st.Train.Sentences, st.Dev.Sentences, st.Test.Sentences)
	groups, err := chooseGroups(*groupsFlag, st.Train.Entities)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d groups, one binary model each: %s\n", len(groups), strings.Join(groups, ", "))

	ctx, stop := cli.SignalContext(context.Background())
	defer stop()
	dir, tok, err := cli.ResolveModel(ctx, train.Model, hub.Options{Progress: stderr})
	if err != nil {
		return err
	}
	groupSplit := func(g string) (ner.Split, ner.TrainOptions) {
		gs := ner.Split{Train: groupCorpus(split.Train, g), Dev: groupCorpus(split.Dev, g), Test: groupCorpus(split.Test, g),
			Seed: split.Seed, TrainFraction: split.TrainFraction, DevFraction: split.DevFraction}
		if split.Dev == nil {
			gs.Dev = nil
		}
		gopts := o
		gopts.OutDir = filepath.Join(o.OutDir, "groups", slug(g))
		return gs, gopts
	}
	// Before anything is written: refuse another run's directories (or
	// move them aside with -overwrite).
	for _, g := range groups {
		gs, gopts := groupSplit(g)
		if err := ner.PrepareOutDir(dir, gs, gopts); err != nil {
			return fmt.Errorf("group %s: %w", g, err)
		}
	}
	if err := split.WriteFileLists(filepath.Join(o.OutDir, "split")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s: %d epochs, batch %d, lr %g, max length %d, seed %d, %s\n", train.Model, o.Epochs, o.BatchSize, o.LR, o.MaxLen, o.Seed, o.Device)

	// One binary model per group.
	var tests []*ner.Evaluation
	entityReports := map[string]*metrics.Report{}
	for i, g := range groups {
		gs, gopts := groupSplit(g)
		fmt.Fprintf(stdout, "[%d/%d] %s (%d training entities)\n", i+1, len(groups), g, st.Train.Entities[g])
		res, err := ner.Train(ctx, dir, tok, gs, gopts)
		if err != nil {
			return fmt.Errorf("group %s: %w", g, err)
		}
		if res.Test == nil {
			return fmt.Errorf("group %s: no test evaluation", g)
		}
		fmt.Fprintf(stdout, "  best %s, test entity-level F1 %.4f\n", res.Best(), res.Test.Report.Micro.F1)
		if i > 0 && len(res.Test.Gold) != len(tests[0].Gold) {
			return fmt.Errorf("group %s: %d test sentences, group %s had %d", g, len(res.Test.Gold), groups[0], len(tests[0].Gold))
		}
		tests = append(tests, res.Test)
		entityReports[g] = res.Test.Report
	}

	// Merge the groups' predictions into label sets and score them.
	gold, pred, err := mergeSets(groups, tests)
	if err != nil {
		return err
	}
	ml, err := metrics.MultiLabel(gold, pred, metrics.MultiLabelOptions{})
	if err != nil {
		return err
	}
	rep := asReport(ml, groups)
	if err := writeOutputs(o.OutDir, rep, groups, entityReports, tests[0].Words, gold, pred); err != nil {
		return err
	}
	man := Manifest{Model: train.ModelName(), Corpus: "SemClinBr", ModelPath: train.Model, Data: train.DataName(*data), Seed: o.Seed, Groups: groups,
		Metric: "label-based micro over test words (one binary model per group, predictions merged)"}
	if err := cli.WriteJSON(filepath.Join(o.OutDir, "results.json"), man); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "\ntest split: %d sentences, %d words; label-based scores (merged binary models):\n\n", len(gold), ml.Tokens)
	if err := rep.WriteText(stdout, 4); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nexact label-set match on %.2f%% of the test words\n", 100*ml.SubsetAccuracy)
	fmt.Fprintf(stdout, "reports in %s (test_report.txt, test_report.json, test_entities.txt, test_predictions.tsv)\n", o.OutDir)
	return nil
}

// groupCorpus is ner.GroupCorpus with the group's spaces replaced by "_"
// in the tags ("B-Chemicals_and_Drugs"): tags are written into
// whitespace-separated conlleval files, where a space would split them.
// MergeGroupTags gives the merged sets the original names back.
func groupCorpus(c *ner.Corpus, group string) *ner.Corpus {
	out := ner.GroupCorpus(c, group)
	safe := strings.Join(strings.Fields(group), "_")
	if safe == group {
		return out
	}
	for d := range out.Documents {
		for s := range out.Documents[d].Sentences {
			tags := out.Documents[d].Sentences[s].Tags
			for i, t := range tags {
				if p, typ, ok := strings.Cut(t, "-"); ok && typ == group {
					tags[i] = p + "-" + safe
				}
			}
		}
	}
	return out
}

// chooseGroups returns the groups to train: those listed in flag (each must
// have training entities), or every group with training entities, sorted.
func chooseGroups(flag string, train map[string]int) ([]string, error) {
	var groups []string
	if strings.TrimSpace(flag) == "" {
		for g, n := range train {
			if n > 0 {
				groups = append(groups, g)
			}
		}
		sort.Strings(groups)
		if len(groups) == 0 {
			return nil, errors.New("the training split has no entities")
		}
		return groups, nil
	}
	seen := map[string]bool{}
	for _, g := range strings.Split(flag, ",") {
		g = strings.TrimSpace(g)
		if g == "" || seen[g] {
			continue
		}
		seen[g] = true
		if train[g] == 0 {
			var have []string
			for h := range train {
				have = append(have, h)
			}
			sort.Strings(have)
			return nil, usagef("-groups: %q has no entities in the training split (it has: %s)", g, strings.Join(have, ", "))
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return nil, usagef("-groups %q names no group", flag)
	}
	return groups, nil
}

// mergeSets turns the groups' test evaluations (the same sentences, in the
// same order) into per-word label sets, gold and predicted: a word's set
// holds the groups whose entity covers it (ner.MergeGroupTags, then the
// B-/I- prefix dropped).
func mergeSets(groups []string, tests []*ner.Evaluation) (gold, pred [][][]string, err error) {
	n := len(tests[0].Gold)
	for i := 0; i < n; i++ {
		gt := make([][]string, len(groups))
		pt := make([][]string, len(groups))
		for g := range groups {
			gt[g], pt[g] = tests[g].Gold[i], tests[g].Pred[i]
		}
		gm, err := ner.MergeGroupTags(groups, gt)
		if err != nil {
			return nil, nil, fmt.Errorf("merge gold of sentence %d: %w", i+1, err)
		}
		pm, err := ner.MergeGroupTags(groups, pt)
		if err != nil {
			return nil, nil, fmt.Errorf("merge predictions of sentence %d: %w", i+1, err)
		}
		gold = append(gold, labelSets(gm))
		pred = append(pred, labelSets(pm))
	}
	return gold, pred, nil
}

// labelSets drops the B-/I- prefixes of merged tags.
func labelSets(tags [][]string) [][]string {
	out := make([][]string, len(tags))
	for i, ts := range tags {
		for _, t := range ts {
			if _, l, ok := strings.Cut(t, "-"); ok {
				out[i] = append(out[i], l)
			}
		}
	}
	return out
}

// asReport puts label-based scores in a metrics.Report (micro, macro and
// support-weighted averages over groups) so that they print and marshal in
// the metrics formats. Accuracy is the exact label-set match ratio.
func asReport(ml *metrics.MultiLabelReport, groups []string) *metrics.Report {
	r := &metrics.Report{PerType: map[string]metrics.Scores{}, Micro: ml.Micro, Macro: ml.Macro,
		Tokens: ml.Tokens, Accuracy: ml.SubsetAccuracy}
	types := append([]string(nil), groups...)
	for _, l := range ml.Labels {
		if _, ok := ml.PerLabel[l]; ok && !contains(types, l) {
			types = append(types, l)
		}
	}
	sort.Strings(types)
	r.Types = types
	var w metrics.Scores
	total := 0
	for _, t := range types {
		s := ml.PerLabel[t]
		r.PerType[t] = s
		w.Precision += float64(s.Support) * s.Precision
		w.Recall += float64(s.Support) * s.Recall
		w.F1 += float64(s.Support) * s.F1
		total += s.Support
	}
	if total > 0 {
		w.Precision /= float64(total)
		w.Recall /= float64(total)
		w.F1 /= float64(total)
	}
	w.Support, w.Found, w.Correct = ml.Micro.Support, ml.Micro.Found, ml.Micro.Correct
	r.Weighted = w
	return r
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// writeOutputs writes the label-based report, the groups' entity-level
// scores and the merged predictions.
func writeOutputs(dir string, rep *metrics.Report, groups []string, ents map[string]*metrics.Report, words [][]string, gold, pred [][][]string) error {
	var txt strings.Builder
	if err := rep.WriteText(&txt, 4); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	var et strings.Builder
	width := len("group")
	for _, g := range groups {
		width = max(width, len([]rune(g)))
	}
	fmt.Fprintf(&et, "%-*s  %9s %9s %9s %9s   (entity level, conlleval, each group's binary model)\n\n", width, "group", "precision", "recall", "f1-score", "support")
	for _, g := range groups {
		s := ents[g].Micro
		fmt.Fprintf(&et, "%-*s  %9.4f %9.4f %9.4f %9d\n", width, g, s.Precision, s.Recall, s.F1, s.Support)
	}
	var pt strings.Builder
	pt.WriteString("# word\tgold labels\tpredicted labels\n")
	for i := range words {
		for j, w := range words[i] {
			fmt.Fprintf(&pt, "%s\t%s\t%s\n", w, joinSet(gold[i][j]), joinSet(pred[i][j]))
		}
		pt.WriteString("\n")
	}
	var files []atomicfile.File
	for _, f := range []struct{ name, data string }{
		{"test_report.txt", txt.String()},
		{"test_report.json", string(js) + "\n"},
		{"test_entities.txt", et.String()},
		{"test_predictions.tsv", pt.String()},
	} {
		files = append(files, atomicfile.File{Path: filepath.Join(dir, f.name), Data: []byte(f.data)})
	}
	return atomicfile.WriteFiles(files...)
}

func joinSet(s []string) string {
	if len(s) == 0 {
		return "O"
	}
	return strings.Join(s, "|")
}

// slug turns a group name into a directory name.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimSuffix(b.String(), "-")
	if out == "" {
		out = "group"
	}
	return out
}
