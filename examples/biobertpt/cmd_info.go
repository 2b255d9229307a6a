package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
)

func init() {
	register(command{name: "info", summary: "describe a BERT model directory: parameters, config, heads", run: runInfo})
}

func runInfo(e *env, args []string) error {
	fs := newFlags(e, "info", "-model DIR")
	model := fs.String("model", "", "HF model directory (config.json + model.safetensors or pytorch_model.bin)")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" || fs.NArg() > 0 {
		return usagef("info -model DIR")
	}
	if err := resolveModel(model); err != nil {
		return err
	}
	c, err := bert.LoadConfig(filepath.Join(*model, bert.ConfigFile))
	if err != nil {
		return err
	}
	file := filepath.Join(*model, bert.SafetensorsFile)
	w, err := bert.ReadWeights(file)
	if err != nil {
		file = filepath.Join(*model, bert.TorchFile)
		var err2 error
		if w, err2 = bert.ReadWeights(file); err2 != nil {
			return fmt.Errorf("%v; %v", err, err2)
		}
	}
	var n int64
	dtypes := map[string]int{}
	has := func(prefix string) bool {
		for k := range w {
			if strings.HasPrefix(k, prefix) {
				return true
			}
		}
		return false
	}
	for k, t := range w {
		if strings.HasSuffix(k, "position_ids") || k == "cls.predictions.decoder.weight" || k == "cls.predictions.decoder.bias" {
			continue // buffers and tied copies
		}
		n += t.Numel()
		dtypes[string(t.DType)]++
	}
	var dts []string
	for d, k := range dtypes {
		dts = append(dts, fmt.Sprintf("%s×%d", d, k))
	}
	sort.Strings(dts)
	fmt.Fprintf(e.stdout, "model:        %s\n", *model)
	fmt.Fprintf(e.stdout, "weights:      %s (%d tensors: %s)\n", filepath.Base(file), len(w), strings.Join(dts, ", "))
	fmt.Fprintf(e.stdout, "parameters:   %d (tied decoder counted once)\n", n)
	fmt.Fprintf(e.stdout, "architecture: %s\n", strings.Join(c.Architectures, ", "))
	fmt.Fprintf(e.stdout, "config:       vocab %d, hidden %d, layers %d, heads %d, intermediate %d, max positions %d, type vocab %d, %s, layer_norm_eps %g, dropout %g/%g\n",
		c.VocabSize, c.HiddenSize, c.NumHiddenLayers, c.NumAttentionHeads, c.IntermediateSize, c.MaxPositionEmbeddings,
		c.TypeVocabSize, c.HiddenAct, c.LayerNormEps, c.HiddenDropoutProb, c.AttentionProbsDropoutProb)
	var heads []string
	if has("bert.pooler.") || has("pooler.") {
		heads = append(heads, "pooler")
	}
	if has("cls.predictions.") {
		heads = append(heads, "mlm (cls.predictions)")
	}
	if has("cls.seq_relationship.") {
		heads = append(heads, "next-sentence (cls.seq_relationship)")
	}
	if t, ok := w["classifier.weight"]; ok && len(t.Shape) == 2 {
		desc := fmt.Sprintf("token-classification (classifier, %d outputs", t.Shape[0])
		if labels, err := c.Labels(); err == nil && len(c.ID2Label) > 0 {
			desc += ": " + strings.Join(labels, " ")
		}
		heads = append(heads, desc+")")
	}
	if len(heads) == 0 {
		heads = append(heads, "none (encoder only)")
	}
	fmt.Fprintf(e.stdout, "heads:        %s\n", strings.Join(heads, ", "))
	if err := bert.CheckFinite(w); err != nil {
		fmt.Fprintf(e.stdout, "weights:      NOT USABLE: %v\n", err)
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}
