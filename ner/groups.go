package ner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/metrics"
)

// Files EvaluateGroups' result writes (GroupEvaluation.WriteFiles), each
// name after a prefix ("test_" for train-ner).
const (
	MultiLabelReportName     = "multilabel.txt"  // label-based table and the per-group entity scores
	MultiLabelReportJSONName = "multilabel.json" // the same as JSON
)

// GroupModel is the binary model of one entity group, trained on
// GroupCorpus(c, Group) (the paper's one-model-per-SemClinBr-group setup).
type GroupModel struct {
	Group string // the entity label, e.g. "Disorders" or "Chemicals and Drugs"
	Dir   string // the model directory (Train's best/, with the tokenizer)
}

// GroupEvaluation is the merged evaluation of per-group binary models on a
// multi-label corpus.
type GroupEvaluation struct {
	// Groups are the evaluated groups, sorted.
	Groups []string
	// MultiLabel holds label-based precision, recall and F1 (per group,
	// micro, macro; metrics.MultiLabel) over words: a word's gold labels are
	// the groups of the gold entities covering it, its predicted labels the
	// groups whose model tags it as part of an entity (B-/I- dropped, so a
	// word is right for a group when both agree that it lies inside one of
	// that group's entities). Gold entities of groups without a model are
	// not counted.
	MultiLabel *metrics.MultiLabelReport
	// PerGroup is each group model's entity-level evaluation (conlleval
	// rules) on its binary corpus GroupCorpus(c, group).
	PerGroup map[string]*Evaluation
	// Words holds the evaluated sentences; Gold and Pred, per sentence and
	// word, the gold and the merged predicted tag sets in the form of
	// Sentence.Labels ("B-<group>"/"I-<group>", sorted; see MergeGroupTags).
	Words      [][]string
	Gold, Pred [][][]string
}

// EvaluateGroups tags c with every group's binary model (Load with o),
// merges the predictions per word with MergeGroupTags and scores them
// against c's labels (Sentence.Labels, or Tags for single-label corpora)
// with label-based micro metrics, as the paper scores SemClinBr. Each
// model is loaded, used and closed in turn. Sentences without words are
// skipped.
func EvaluateGroups(c *Corpus, models []GroupModel, o TaggerOptions) (*GroupEvaluation, error) {
	if c == nil {
		return nil, errors.New("ner: evaluate groups: nil corpus")
	}
	if len(models) == 0 {
		return nil, errors.New("ner: evaluate groups: no group models")
	}
	ms := append([]GroupModel(nil), models...)
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Group < ms[j].Group })
	ge := &GroupEvaluation{PerGroup: map[string]*Evaluation{}}
	for i, m := range ms {
		if m.Group == "" {
			return nil, fmt.Errorf("ner: evaluate groups: model %s has no group", m.Dir)
		}
		if i > 0 && ms[i-1].Group == m.Group {
			return nil, fmt.Errorf("ner: evaluate groups: group %q given twice", m.Group)
		}
		ev, err := evaluateGroup(c, m, o)
		if err != nil {
			return nil, err
		}
		if i > 0 && len(ev.Words) != len(ge.Words) {
			return nil, fmt.Errorf("ner: evaluate groups: group %s has %d sentences, %s %d", m.Group, len(ev.Words), ms[0].Group, len(ge.Words))
		}
		ge.Groups = append(ge.Groups, m.Group)
		ge.PerGroup[m.Group] = ev
		ge.Words = ev.Words
	}
	n := len(ge.Words)
	ge.Gold, ge.Pred = make([][][]string, n), make([][][]string, n)
	gold, pred := make([][][]string, n), make([][][]string, n)
	for i := 0; i < n; i++ {
		gt, pt := make([][]string, len(ge.Groups)), make([][]string, len(ge.Groups))
		for g, name := range ge.Groups {
			gt[g], pt[g] = ge.PerGroup[name].Gold[i], ge.PerGroup[name].Pred[i]
		}
		var err error
		if ge.Gold[i], err = MergeGroupTags(ge.Groups, gt); err != nil {
			return nil, fmt.Errorf("ner: evaluate groups: sentence %d: %w", i+1, err)
		}
		if ge.Pred[i], err = MergeGroupTags(ge.Groups, pt); err != nil {
			return nil, fmt.Errorf("ner: evaluate groups: sentence %d: %w", i+1, err)
		}
		gold[i], pred[i] = labelSets(ge.Gold[i]), labelSets(ge.Pred[i])
	}
	r, err := metrics.MultiLabel(gold, pred, metrics.MultiLabelOptions{})
	if err != nil {
		return nil, fmt.Errorf("ner: evaluate groups: %w", err)
	}
	ge.MultiLabel = r
	return ge, nil
}

// evaluateGroup loads one group's model and evaluates it on the group's
// binary corpus.
func evaluateGroup(c *Corpus, m GroupModel, o TaggerOptions) (*Evaluation, error) {
	t, err := Load(m.Dir, o)
	if err != nil {
		return nil, fmt.Errorf("ner: evaluate groups: group %s: %w", m.Group, err)
	}
	defer t.Close()
	ev, err := t.Evaluate(GroupCorpus(c, m.Group))
	if err != nil {
		return nil, fmt.Errorf("ner: evaluate groups: group %s: %w", m.Group, err)
	}
	return ev, nil
}

// labelSets drops the B-/I- prefixes of Sentence.Labels-style tag sets.
func labelSets(tags [][]string) [][]string {
	out := make([][]string, len(tags))
	for i, ts := range tags {
		for _, t := range ts {
			if _, typ, ok := splitTag(t); ok && typ != "" {
				out[i] = append(out[i], typ)
			}
		}
	}
	return out
}

// WriteText writes the label-based table (per group, micro and macro
// averages, subset accuracy) and the per-group entity-level scores, with
// the given number of digits.
func (ge *GroupEvaluation) WriteText(w io.Writer, digits int) error {
	if digits < 1 {
		digits = 4
	}
	r := ge.MultiLabel
	width := len("micro avg")
	for _, g := range ge.Groups {
		width = max(width, len(g))
	}
	f := fmt.Sprintf("%%.%df", digits)
	col := max(digits+2, 9)
	var b strings.Builder
	row := func(name string, s metrics.Scores, support int) {
		fmt.Fprintf(&b, "%*s %*s %*s %*s %*d\n", width, name, col, fmt.Sprintf(f, s.Precision), col, fmt.Sprintf(f, s.Recall),
			col, fmt.Sprintf(f, s.F1), col, support)
	}
	fmt.Fprintf(&b, "label-based scores over %d words (one binary model per group, predictions merged):\n\n", r.Tokens)
	fmt.Fprintf(&b, "%*s %*s %*s %*s %*s\n", width, "", col, "precision", col, "recall", col, "f1-score", col, "support")
	total := 0
	for _, g := range ge.Groups {
		s := r.PerLabel[g]
		row(g, s, s.Support)
		total += s.Support
	}
	b.WriteString("\n")
	row("micro avg", r.Micro, total)
	row("macro avg", r.Macro, total)
	fmt.Fprintf(&b, "%*s %*s\n", width, "subset acc", col, fmt.Sprintf(f, r.SubsetAccuracy))
	fmt.Fprintf(&b, "\nentity-level scores per group (conlleval rules, each group's model on its binary corpus):\n\n")
	fmt.Fprintf(&b, "%*s %*s %*s %*s %*s\n", width, "", col, "precision", col, "recall", col, "f1-score", col, "support")
	for _, g := range ge.Groups {
		m := ge.PerGroup[g].Report.Micro
		row(g, m, m.Support)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// groupEvaluationJSON is the JSON form of a GroupEvaluation.
type groupEvaluationJSON struct {
	Groups     []string                   `json:"groups"`
	MultiLabel *metrics.MultiLabelReport  `json:"label_based"`
	PerGroup   map[string]*metrics.Report `json:"entity_level_per_group"`
}

// WriteFiles writes prefix+MultiLabelReportName (WriteText, 4 digits) and
// prefix+MultiLabelReportJSONName ({"groups", "label_based" (the
// metrics.MultiLabelReport), "entity_level_per_group" (group →
// metrics.Report)}) into dir. Each group's full entity-level files are
// its Evaluation's (Evaluation.WriteFiles); train-ner writes them in
// OUT/<GroupFileName(group)>/.
func (ge *GroupEvaluation) WriteFiles(dir, prefix string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("ner: write group evaluation: %w", err)
	}
	var txt strings.Builder
	if err := ge.WriteText(&txt, 4); err != nil {
		return err
	}
	js := groupEvaluationJSON{Groups: ge.Groups, MultiLabel: ge.MultiLabel, PerGroup: map[string]*metrics.Report{}}
	for g, ev := range ge.PerGroup {
		js.PerGroup[g] = ev.Report
	}
	b, err := json.MarshalIndent(js, "", "  ")
	if err != nil {
		return fmt.Errorf("ner: write group evaluation: %w", err)
	}
	if err := atomicfile.WriteFiles(
		atomicfile.File{Path: filepath.Join(dir, prefix+MultiLabelReportName), Data: []byte(txt.String())},
		atomicfile.File{Path: filepath.Join(dir, prefix+MultiLabelReportJSONName), Data: append(b, '\n')},
	); err != nil {
		return fmt.Errorf("ner: write group evaluation: %w", err)
	}
	return nil
}

// GroupFileName turns a group name into a file or directory name: spaces,
// path separators and other characters unsafe in file names become "_"
// ("Chemicals and Drugs" → "Chemicals_and_Drugs").
func GroupFileName(group string) string {
	var b strings.Builder
	for _, r := range group {
		switch {
		case r == '-' || r == '.' || r == '&' || r == '+':
			b.WriteRune(r)
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r > 127 && r != 0xFFFD:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s == "" || s == "." || s == ".." {
		s = "_" + s
	}
	return s
}
