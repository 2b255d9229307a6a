package pretrain

import (
	"fmt"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/engine"
)

// CorpusInfo describes one of the paper's corpora (Schneider et al. 2020, §3.1).
// Sentences and Words are the paper's counts, for reference.
type CorpusInfo struct {
	Name        string
	Description string
	Sentences   int64
	Words       int64
}

// The paper's corpora, by name.
const (
	CorpusClinical      = "clinical"       // clinical notes
	CorpusSciELOHealth  = "scielo-health"  // SciELO health-science articles
	CorpusSciELOBiology = "scielo-biology" // SciELO biology articles
	CorpusPubMed        = "pubmed-titles"  // Portuguese PubMed titles
	CorpusCustom        = "custom"         // the files of a custom variant
)

// Corpora returns the paper's corpora.
func Corpora() []CorpusInfo {
	return []CorpusInfo{
		{CorpusClinical, "clinical notes from Brazilian hospitals (private)", 3_800_000, 27_700_000},
		{CorpusSciELOHealth, "SciELO health-science literature", 532_920, 12_400_000},
		{CorpusSciELOBiology, "SciELO biology literature", 130_098, 3_200_000},
		{CorpusPubMed, "Portuguese PubMed titles", 74_451, 812_711},
	}
}

// Stage is one pretraining stage: the corpora read together, in order.
type Stage struct {
	Name    string
	Corpora []string
}

// Variant is a pretraining recipe: stages run in order, each continuing
// from the model the previous one produced.
type Variant struct {
	Name        string
	Description string
	Stages      []Stage
}

// Variants returns the paper's variants: clin, bio and all (clin, then bio
// continuing from clin's model).
func Variants() []Variant {
	clin := Stage{Name: "clin", Corpora: []string{CorpusClinical}}
	bio := Stage{Name: "bio", Corpora: []string{CorpusSciELOHealth, CorpusSciELOBiology, CorpusPubMed}}
	return []Variant{
		{Name: "clin", Description: "BioBERTpt(clin): mBERT further pretrained on clinical notes", Stages: []Stage{clin}},
		{Name: "bio", Description: "BioBERTpt(bio): mBERT further pretrained on SciELO and PubMed", Stages: []Stage{bio}},
		{Name: "all", Description: "BioBERTpt(all): BioBERTpt(clin) further pretrained on the bio corpora", Stages: []Stage{clin, bio}},
	}
}

// LookupVariant returns the variant clin, bio or all, or for "custom" one
// stage reading the corpus named CorpusCustom.
func LookupVariant(name string) (Variant, error) {
	if name == "custom" {
		return Variant{Name: "custom", Description: "custom corpus", Stages: []Stage{{Name: "custom", Corpora: []string{CorpusCustom}}}}, nil
	}
	for _, v := range Variants() {
		if v.Name == name {
			return v, nil
		}
	}
	return Variant{}, fmt.Errorf("pretrain: unknown variant %q: want clin, bio, all or custom", name)
}

// BoundStage is a Stage with its files.
type BoundStage struct {
	Name  string
	Files []string // paths or globs, for ExpandPaths
}

// Bind gives each stage its files from corpora, a map from corpus name to
// paths. Paths under the key "" (unnamed) are allowed when the variant has
// one stage: they are that stage's files, after any named ones. Every
// corpus of a stage needs files unless unnamed files cover the stage;
// unknown names are errors.
func (v Variant) Bind(corpora map[string][]string) ([]BoundStage, error) {
	known := map[string]bool{}
	for _, s := range v.Stages {
		for _, c := range s.Corpora {
			known[c] = true
		}
	}
	var unknown []string
	for name := range corpora {
		if name != "" && !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("pretrain: variant %s: unknown corpus %s (it reads %s)", v.Name, strings.Join(unknown, ", "), strings.Join(sortedKeys(known), ", "))
	}
	unnamed := corpora[""]
	if len(unnamed) > 0 && len(v.Stages) != 1 {
		return nil, fmt.Errorf("pretrain: variant %s has %d stages: name each corpus (e.g. %s=notes.txt)", v.Name, len(v.Stages), v.Stages[0].Corpora[0])
	}
	var out []BoundStage
	for _, s := range v.Stages {
		bs := BoundStage{Name: s.Name}
		for _, c := range s.Corpora {
			if len(corpora[c]) == 0 && len(unnamed) == 0 {
				return nil, fmt.Errorf("pretrain: variant %s: stage %s: no files for corpus %s", v.Name, s.Name, c)
			}
			bs.Files = append(bs.Files, corpora[c]...)
		}
		bs.Files = append(bs.Files, unnamed...)
		out = append(out, bs)
	}
	return out, nil
}

func sortedKeys(m map[string]bool) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}

// ParseCorpusArg parses a -corpus flag: comma-separated entries, each
// "name=path" or a bare "path" (unnamed); paths may be globs.
func ParseCorpusArg(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		name, path := "", e
		if i := strings.IndexByte(e, '='); i >= 0 {
			name, path = strings.TrimSpace(e[:i]), strings.TrimSpace(e[i+1:])
			if name == "" || path == "" {
				return nil, fmt.Errorf("pretrain: corpus %q: want name=path", e)
			}
		}
		out[name] = append(out[name], path)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pretrain: corpus %q: no paths", s)
	}
	return out, nil
}

// Options are the pretraining hyper-parameters, named after HF
// TrainingArguments / run_mlm. Start from DefaultOptions(). The embedded
// engine options are the training knobs every trainer of this module
// shares (Epochs, MaxSteps, BatchSize, GradAccum, LR, WarmupRatio,
// WarmupSteps, WeightDecay, AdamBeta1/2, AdamEpsilon, MaxGradNorm, Seed,
// SaveSteps, SaveTotalLimit, LogSteps, Device, Precision, MaxMemoryGiB,
// EvalEachEpoch, OutDir, Resume, OverwriteOutputDir, Log, OnStep); the
// others say how the corpus becomes masked examples.
type Options struct {
	engine.Options

	BlockSize          int     // 512 (the paper)
	MLMProbability     float64 // 0.15 (the paper)
	WholeWordMask      bool    // false
	LineByLine         bool    // false: group_texts blocks
	ValidationFraction float64 // 0.05 (HF validation_split_percentage 5)
}

// DefaultOptions returns the paper's hyper-parameters (5 epochs, batch 4,
// lr 2e-5, blocks of 512, 15% masking) and HF's defaults for the rest. The
// paper states no warmup and no weight decay: warmup is HF run_mlm's
// default 0 steps (linear decay from the first step) and weight decay
// BERT's 0.01. Beyond the paper: gradient clipping at 1.0, a checkpoint
// every 500 steps (all kept), seed 42, CPU, fp32, a metrics line every 10
// steps, evaluation at every epoch end. OutDir is left empty.
func DefaultOptions() Options {
	return Options{
		Options: engine.Options{
			Epochs: 5, BatchSize: 4, GradAccum: 1, LR: 2e-5, WeightDecay: 0.01,
			AdamBeta1: 0.9, AdamBeta2: 0.999, AdamEpsilon: 1e-8, MaxGradNorm: 1,
			SaveSteps: 500, Seed: 42, Device: "cpu", Precision: bert.DefaultPrecision,
			LogSteps: 10, EvalEachEpoch: true,
		},
		BlockSize: 512, MLMProbability: 0.15, ValidationFraction: 0.05,
	}
}

// Validate names the first bad field. OutDir is checked by
// TrainOptions.Validate.
func (o Options) Validate() error {
	if err := o.Options.Validate(); err != nil {
		return fmt.Errorf("pretrain: options: %w", err)
	}
	if err := o.BlockOptions().Validate(); err != nil {
		return err
	}
	return o.MaskOptions().Validate()
}

// BlockOptions returns the data options of o.
func (o Options) BlockOptions() BlockOptions {
	return BlockOptions{BlockSize: o.BlockSize, LineByLine: o.LineByLine, ValidationFraction: o.ValidationFraction, Seed: uint64(o.Seed)}
}

// MaskOptions returns the masking options of o (80/10/10).
func (o Options) MaskOptions() MaskOptions {
	m := DefaultMaskOptions()
	m.Probability = o.MLMProbability
	m.WholeWord = o.WholeWordMask
	return m
}

// BatchOptions returns the training batcher's options of o (shuffled).
func (o Options) BatchOptions() BatchOptions {
	return BatchOptions{BatchSize: o.BatchSize, GradAccum: o.GradAccum, Shuffle: true, Seed: uint64(o.Seed)}
}
