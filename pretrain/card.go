package pretrain

import (
	"fmt"
	"strings"
	"time"

	"github.com/sugarme/gotch/bbshim"

	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/internal/modelcard"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// writeFinalCard writes finalDir/README.md, the HF Hub model card of the
// stage's final model: the run manifest in o.OutDir (starting model,
// corpus files and their SHA-256, every hyper-parameter), the stage's last
// training loss and validation perplexity, the environment and the
// intended use.
func (st *stage) writeFinalCard(finalDir string, sr *StageResult) error {
	m, err := engine.ReadManifest(st.o.OutDir)
	if err != nil {
		return fmt.Errorf("pretrain: model card: %w", err)
	}
	base := str(m.Data["model"])
	meta := modelcard.Metadata{
		Language: []string{"pt"}, License: "apache-2.0", LibraryName: "transformers", PipelineTag: "fill-mask",
		Tags:    []string{"fill-mask", "bert", "biomedical", "clinical", "portuguese", "biobertpt-go"},
		Metrics: []string{"perplexity"}, BaseModel: base,
	}
	variant := str(m.Data["variant"])
	var b strings.Builder
	fmt.Fprintf(&b, "# BioBERTpt-style masked LM (%s, stage %s)\n\n", variant, st.name)
	fmt.Fprintf(&b, "A BERT masked-language model continued-pretrained on Portuguese clinical or biomedical text with [biobertpt-go](https://%s), following BioBERTpt (Schneider et al., ClinicalNLP 2020). It is a HuggingFace model directory (`AutoModelForMaskedLM.from_pretrained`); fine-tune it for NER with `biobertpt train-ner -model DIR`.\n\n", modelcard.Module)
	b.WriteString("## Base model\n\n")
	if base == "" {
		base = str(m.Runtime["model_path"])
	}
	if base == "" {
		b.WriteString("None: trained from a fresh initialisation")
	} else {
		fmt.Fprintf(&b, "`%s`", base)
	}
	if sum := str(m.Data["model_sha256"]); sum != "" {
		fmt.Fprintf(&b, " (weights SHA-256 `%s`)", sum)
	}
	b.WriteString("\n\n## Training data\n\n")
	files, _ := m.Runtime["corpus_files"].(map[string]any)
	b.WriteString(modelcard.FileList(files, 50))
	b.WriteString("\nData settings (`run.json`, `data` section):\n\n")
	b.WriteString(modelcard.ParamsTable(m.Data))
	b.WriteString("\n## Training procedure\n\nHyper-parameters (`run.json`, `training` section):\n\n")
	b.WriteString(modelcard.ParamsTable(m.Training))
	fmt.Fprintf(&b, "\n%d optimizer steps", sr.Steps)
	if n := len(sr.Losses); n > 0 {
		fmt.Fprintf(&b, "; last training loss %.4f", sr.Losses[n-1])
	}
	b.WriteString(".\n\n")
	if n := len(st.evals); n > 0 {
		e := st.evals[n-1]
		fmt.Fprintf(&b, "## Evaluation\n\nHeld-out validation blocks at epoch %.2f: masked-LM loss %.4f, perplexity %.2f (%d masked tokens).\n\n", e.Epoch, e.Loss, e.Perplexity, e.Tokens)
		meta.ModelIndex = []modelcard.ModelIndex{{Name: variant, Results: []modelcard.Result{{
			Task:    modelcard.Task{Type: "fill-mask", Name: "Masked language modeling"},
			Dataset: modelcard.Dataset{Name: "held-out pretraining text", Type: "text", Split: "validation"},
			Metrics: []modelcard.Metric{{Type: "perplexity", Value: e.Perplexity, Name: "Validation perplexity"}},
		}}}}
	}
	a, c, d := bbshim.TorchVersion()
	b.WriteString("## Environment\n\n")
	fmt.Fprintf(&b, "- Hardware: %s\n", modelcard.Hardware(torchutil.DeviceString(st.dev)))
	fmt.Fprintf(&b, "- Software: %s\n", modelcard.Software(fmt.Sprintf("%d.%d.%d", a, c, d)))
	fmt.Fprintf(&b, "- Precision: %s\n", str(m.Runtime["precision"]))
	fmt.Fprintf(&b, "- Time: %s since the run started (%s)\n\n", time.Since(m.Created).Round(time.Second), m.Created.UTC().Format(time.RFC3339))
	b.WriteString(`## Intended use and limitations

A starting point for fine-tuning on Portuguese clinical and biomedical
tasks (NER above all), for research. It is not a medical device and its
outputs must not drive clinical decisions. It knows the language of its
pretraining text: other institutions, specialties and varieties of
Portuguese are represented less well. A masked LM trained on clinical
notes may reproduce fragments of them, including personal health
information: publish it only where the notes' terms and the applicable law
(LGPD, GDPR, HIPAA) allow.
`)
	if err := modelcard.Write(finalDir, modelcard.Card{Meta: meta, Body: b.String()}); err != nil {
		return fmt.Errorf("pretrain: model card %s: %w", finalDir, err)
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
