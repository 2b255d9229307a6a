package ner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/metrics"
)

// Evaluation is a model's predictions on a corpus and their scores.
type Evaluation struct {
	// Report holds entity-level precision, recall and F1 (micro, macro,
	// per type) computed by metrics.Evaluate in Conlleval mode on IOB2 tags
	// (tags of other schemes are rewritten to IOB2 first, see Gold/Pred).
	Report *metrics.Report
	// Words, Gold and Pred hold, per sentence, the words and the gold and
	// predicted tags as scored (IOB2 unless both were IOB2 already, then
	// unchanged).
	Words, Gold, Pred [][]string
}

// newEvaluation scores predicted tags (in predScheme) against gold tags (in
// goldScheme). Both are passed through evalTags, so IOB2 input is scored
// exactly as conlleval.pl scores it.
func newEvaluation(words, gold [][]string, goldScheme Scheme, pred [][]string, predScheme Scheme) (*Evaluation, error) {
	ev := &Evaluation{Words: words, Gold: make([][]string, len(gold)), Pred: make([][]string, len(pred))}
	for i := range gold {
		ev.Gold[i] = evalTags(gold[i], goldScheme)
	}
	for i := range pred {
		ev.Pred[i] = evalTags(pred[i], predScheme)
	}
	r, err := metrics.Evaluate(ev.Gold, ev.Pred, metrics.Options{Scheme: metrics.IOB2, Mode: metrics.Conlleval})
	if err != nil {
		return nil, fmt.Errorf("ner: evaluate: %w", err)
	}
	ev.Report = r
	return ev, nil
}

// Conll returns the predictions in conlleval's input format: one
// "word gold predicted" line per word (whitespace inside a word or an
// entity type becomes "_"),
// a blank line after each sentence.
func (ev *Evaluation) Conll() string {
	var b strings.Builder
	for i := range ev.Gold {
		writeConllevalSentence(&b, ev.Words[i], ev.Gold[i], ev.Pred[i])
	}
	return b.String()
}

// ConllevalReport returns conlleval.pl's report of the predictions, as
// `perl conlleval.pl < predictions` prints it.
func (ev *Evaluation) ConllevalReport() (string, error) {
	c, err := metrics.ReadConll(strings.NewReader(ev.Conll()), "predictions", metrics.ConllOptions{})
	if err != nil {
		return "", fmt.Errorf("ner: evaluate: %w", err)
	}
	var b strings.Builder
	if err := metrics.WriteConlleval(&b, c); err != nil {
		return "", fmt.Errorf("ner: evaluate: %w", err)
	}
	return b.String(), nil
}

// WriteFiles writes into dir, each name prefixed with prefix:
// "report.txt" (seqeval-style table, 4 digits), "report.json"
// (metrics.Report as JSON), "conlleval.txt" (conlleval.pl's report) and
// "predictions.txt" (conlleval's input format, see Conll). The four are
// written together (atomicfile.WriteFiles): a failure such as a full disk
// leaves every one of them as it was, never empty or cut short.
func (ev *Evaluation) WriteFiles(dir, prefix string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("ner: write evaluation: %w", err)
	}
	var txt strings.Builder
	if err := ev.Report.WriteText(&txt, 4); err != nil {
		return err
	}
	js, err := json.MarshalIndent(ev.Report, "", "  ")
	if err != nil {
		return fmt.Errorf("ner: write evaluation: %w", err)
	}
	ce, err := ev.ConllevalReport()
	if err != nil {
		return err
	}
	var files []atomicfile.File
	for _, f := range []struct{ name, data string }{
		{"report.txt", txt.String()},
		{"report.json", string(js) + "\n"},
		{"conlleval.txt", ce},
		{"predictions.txt", ev.Conll()},
	} {
		files = append(files, atomicfile.File{Path: filepath.Join(dir, prefix+f.name), Data: []byte(f.data)})
	}
	if err := atomicfile.WriteFiles(files...); err != nil {
		return fmt.Errorf("ner: write evaluation: %w", err)
	}
	return nil
}
