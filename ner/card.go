package ner

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/sugarme/gotch/bbshim"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/modelcard"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/metrics"
)

// CardOptions fills the model card (README.md) Train writes into best/:
// the HF Hub metadata a run cannot know. None of it changes the run.
type CardOptions struct {
	// Name is the model's name in the card's model-index (default: the
	// output directory's base name).
	Name string
	// License is the Hub license id (default "apache-2.0", mBERT's and
	// BioBERTpt's; set the corpus's terms when they restrict it).
	License string
	// Datasets are Hub dataset ids or corpus names (default: the corpus
	// files' directory name).
	Datasets []string
}

// LibtorchVersion is the libtorch version this binary is built against.
func LibtorchVersion() string {
	a, b, c := bbshim.TorchVersion()
	return fmt.Sprintf("%d.%d.%d", a, b, c)
}

// cardScores is one split's evaluation for the card.
type cardScores struct {
	split string
	rep   *metrics.Report
}

// writeCard writes dir/README.md, the Hub model card of the run in
// o.OutDir (its run.json) whose best model is in dir.
func writeCard(dir string, o TrainOptions, res *TrainResult, device string, seconds float64, evals ...cardScores) error {
	m, err := engine.ReadManifest(o.OutDir)
	if err != nil {
		return fmt.Errorf("ner: model card: %w", err)
	}
	c := nerCard(m, o, res, device, seconds, evals)
	if err := modelcard.Write(dir, c); err != nil {
		return fmt.Errorf("ner: model card %s: %w", dir, err)
	}
	return nil
}

// nerCard builds the card from the run manifest and the scores.
func nerCard(m *engine.Manifest, o TrainOptions, res *TrainResult, device string, seconds float64, evals []cardScores) modelcard.Card {
	co := o.Card
	abs, _ := filepath.Abs(o.OutDir)
	if co.Name == "" {
		co.Name = filepath.Base(abs)
		if strings.HasPrefix(co.Name, "seed-") { // a sweep's run: OUT/seed-N
			co.Name = filepath.Base(filepath.Dir(abs)) + "-" + co.Name
		}
	}
	if co.License == "" {
		co.License = "apache-2.0"
	}
	files, _ := m.Runtime["corpus_files"].(map[string]any)
	if len(co.Datasets) == 0 {
		if d := commonDir(files); d != "" && d != "." && d != string(filepath.Separator) {
			co.Datasets = []string{filepath.Base(d)}
		}
	}
	base := str(m.Data["model"])
	if base == "" {
		base = str(m.Runtime["model_path"])
	}
	meta := modelcard.Metadata{
		Language: []string{"pt"}, License: co.License, LibraryName: "transformers", PipelineTag: "token-classification",
		Tags:     []string{"token-classification", "ner", "biomedical", "clinical", "portuguese", "biobertpt-go"},
		Datasets: co.Datasets, Metrics: []string{"precision", "recall", "f1"},
	}
	if str(m.Data["model"]) != "" { // a Hub id; a local directory is no Hub base_model
		meta.BaseModel = base
	}
	dataset := strings.Join(co.Datasets, ", ")
	if dataset == "" {
		dataset = "NER corpus"
	}
	for _, ev := range evals {
		if ev.split != "test" || ev.rep == nil {
			continue
		}
		r := ev.rep
		meta.ModelIndex = []modelcard.ModelIndex{{Name: co.Name, Results: []modelcard.Result{{
			Task:    modelcard.Task{Type: "token-classification", Name: "Named Entity Recognition"},
			Dataset: modelcard.Dataset{Name: dataset, Type: strings.ToLower(strings.ReplaceAll(dataset, " ", "-")), Split: "test"},
			Metrics: []modelcard.Metric{
				{Type: "precision", Value: round4(r.Micro.Precision), Name: "Test micro precision (conlleval)"},
				{Type: "recall", Value: round4(r.Micro.Recall), Name: "Test micro recall (conlleval)"},
				{Type: "f1", Value: round4(r.Micro.F1), Name: "Test micro F1 (conlleval)"},
				{Type: "f1", Value: round4(r.Macro.F1), Name: "Test macro F1"},
			},
		}}}}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", co.Name)
	fmt.Fprintf(&b, "A BERT token-classification model for named-entity recognition in Portuguese clinical and biomedical text, fine-tuned with [biobertpt-go](https://%s) following BioBERTpt's recipe (Schneider et al., ClinicalNLP 2020). It is a HuggingFace model directory: `AutoModelForTokenClassification.from_pretrained` loads it, and so does `ner.Load` in Go.\n\n", modelcard.Module)
	fmt.Fprintf(&b, "Entity types (%s scheme): %s.\n\n", str(m.Data["scheme"]), strings.Join(entityTypes(res.Labels), ", "))

	b.WriteString("## Base model\n\n")
	if sum := str(m.Data["model_sha256"]); sum != "" {
		fmt.Fprintf(&b, "`%s` (weights SHA-256 `%s`)\n\n", base, sum)
	} else {
		fmt.Fprintf(&b, "`%s`\n\n", base)
	}

	b.WriteString("## Training data\n\n")
	if sums, ok := m.Data["split_files_sha256"].(map[string]any); ok {
		paths, _ := m.Runtime["split_files"].(map[string]any)
		b.WriteString("Given split files:\n\n| part | path | SHA-256 |\n|---|---|---|\n")
		for _, part := range []string{"train", "dev", "test"} {
			if s := str(sums[part]); s != "" {
				fmt.Fprintf(&b, "| %s | `%s` | `%s` |\n", part, str(paths[part]), s)
			}
		}
		if d, ok := m.Data["split_dev_from_train"].(map[string]any); ok {
			fmt.Fprintf(&b, "\nThe dev part is %v of the training file's document groups, drawn with seed %v.\n", d["fraction"], d["seed"])
		}
		b.WriteString("\n")
	} else if m.Data["split_seed"] != nil {
		fmt.Fprintf(&b, "A document-level split of one corpus: train %v, dev %v, the rest test, seed %v (`ner.SplitDocuments`).\n\n",
			m.Data["split_train_fraction"], m.Data["split_dev_fraction"], m.Data["split_seed"])
	}
	for _, part := range []string{"train", "dev", "test"} {
		if d, ok := m.Data["split_"+part].(map[string]any); ok {
			fmt.Fprintf(&b, "- %s: %v documents (IDs SHA-256 `%s`, contents SHA-256 `%s`)\n", part, d["documents"], str(d["ids_sha256"]), str(d["content_sha256"]))
		}
	}
	fmt.Fprintf(&b, "\nThe documents of each part are listed in the run's `train.txt`, `dev.txt` and `test.txt`. Corpus files (SHA-256 over all: `%s`):\n\n", str(m.Data["corpus_sha256"]))
	b.WriteString(modelcard.FileList(files, 50))

	b.WriteString("\n## Training procedure\n\nHyper-parameters (the run's `run.json`, `training` section):\n\n")
	b.WriteString(modelcard.ParamsTable(m.Training))
	fmt.Fprintf(&b, "| labels | %s |\n", modelcard.JSONValue(m.Data["labels"]))
	fmt.Fprintf(&b, "\nBest epoch %d of %d (%s); %d optimizer steps.\n\n", res.BestEpoch, len(res.Epochs), res.Best(), res.Steps)

	b.WriteString("## Evaluation\n\nEntity-level scores, conlleval's rules (seqeval default mode), of this model:\n\n")
	for _, ev := range evals {
		if ev.rep == nil {
			continue
		}
		fmt.Fprintf(&b, "### %s\n\n| type | precision | recall | F1 | support |\n|---|---:|---:|---:|---:|\n", ev.split)
		for _, t := range ev.rep.Types {
			s := ev.rep.PerType[t]
			fmt.Fprintf(&b, "| %s | %.4f | %.4f | %.4f | %d |\n", t, s.Precision, s.Recall, s.F1, s.Support)
		}
		for _, row := range []struct {
			name string
			s    metrics.Scores
		}{{"micro avg", ev.rep.Micro}, {"macro avg", ev.rep.Macro}} {
			fmt.Fprintf(&b, "| **%s** | %.4f | %.4f | %.4f | %d |\n", row.name, row.s.Precision, row.s.Recall, row.s.F1, row.s.Support)
		}
		b.WriteString("\n")
	}

	b.WriteString("## Environment\n\n")
	fmt.Fprintf(&b, "- Hardware: %s\n", modelcard.Hardware(device))
	fmt.Fprintf(&b, "- Software: %s\n", modelcard.Software(LibtorchVersion()))
	fmt.Fprintf(&b, "- Precision: %s\n", str(m.Runtime["precision"]))
	fmt.Fprintf(&b, "- Training time: %s (epochs' time; the run started %s)\n\n", time.Duration(seconds*float64(time.Second)).Round(time.Second), m.Created.UTC().Format(time.RFC3339))

	b.WriteString(`## Intended use and limitations

Research on information extraction from Portuguese clinical and biomedical
text, and a starting point for annotating such text with a person checking
the output. It is not a medical device and must not drive clinical
decisions. Its scores hold for text like its training corpus: expect lower
accuracy on other institutions, specialties, note types, spelling and
abbreviation habits, or on other varieties of Portuguese. It was trained on
few documents; entity types with small support above have unreliable
scores. Clinical notes carry personal health information: text given to the
model should be handled under the applicable law (LGPD, GDPR, HIPAA), and
the model itself may have memorised fragments of its training notes, so
publish it only where the training data's terms allow.
`)
	return modelcard.Card{Meta: meta, Body: b.String()}
}

// commonDir is the deepest directory holding every path of files.
func commonDir(files map[string]any) string {
	dir, first := "", true
	for p := range files {
		d := filepath.Dir(filepath.Clean(p))
		if first {
			dir, first = d, false
			continue
		}
		for dir != d && !strings.HasPrefix(d, dir+string(filepath.Separator)) {
			up := filepath.Dir(dir)
			if up == dir {
				return dir
			}
			dir = up
		}
	}
	return dir
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func round4(x float64) float64 {
	return float64(int64(x*1e4+0.5)) / 1e4
}

// writeBestCard evaluates the best model on the dev split and writes the
// card into best/ with the dev and test scores.
func (tr *trainer) writeBestCard(res *TrainResult) error {
	var evals []cardScores
	if len(tr.devd.exs) > 0 {
		m, _, err := bert.LoadForTokenClassification(res.BestDir, bert.LoadOptions{Device: tr.dev})
		if err != nil {
			return fmt.Errorf("ner: model card: %w", err)
		}
		w, err := loadCRFWeights(res.BestDir, len(tr.ls.names))
		if err != nil {
			freeModel(m)
			return fmt.Errorf("ner: model card: %w", err)
		}
		ev, err := evaluateModel(m, tr.dev, tr.tok.PAD(), tr.devd, tr.ls.names, tr.o.Scheme, tr.o.EvalBatchSize, tr.o.Decode, w)
		freeModel(m)
		if err != nil {
			return fmt.Errorf("ner: model card: dev: %w", err)
		}
		evals = append(evals, cardScores{"dev", ev.Report})
	}
	if res.Test != nil {
		evals = append(evals, cardScores{"test", res.Test.Report})
	}
	seconds := 0.0
	for _, e := range res.Epochs {
		seconds += e.Seconds
	}
	return writeCard(res.BestDir, tr.o, res, torchutil.DeviceString(tr.dev), seconds, evals...)
}
