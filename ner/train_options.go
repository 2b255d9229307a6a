package ner

import (
	"fmt"
	"math"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/engine"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// StepMetrics are the metrics of one optimizer step, given to
// TrainOptions.OnStep and written to metrics.jsonl.
type StepMetrics = engine.StepMetrics

// TrainOptions configures Train. Start from DefaultTrainOptions(), which
// holds the paper's fine-tuning recipe (Schneider et al. 2020, §3.2): AdamW
// with lr 3e-5 and weight decay 0.01, batch 4, maximum length 256, 10
// epochs, a linear schedule with 10% warmup, IOB2.
//
// The embedded engine options are the knobs every trainer of this module
// shares, named after HF TrainingArguments (OutDir, Resume,
// OverwriteOutputDir, Epochs, MaxSteps, BatchSize, GradAccum, LR,
// WarmupRatio, WarmupSteps, WeightDecay, AdamBeta1/2, AdamEpsilon,
// MaxGradNorm, Seed, Device, Precision, MaxMemoryGiB, LogSteps, SaveSteps,
// SaveTotalLimit, EvalEachEpoch, Log, OnStep); each is documented there.
// Their NER defaults: MaxGradNorm 1, Seed 42 (also the split's in the
// command-line programs), Device "cpu", LogSteps 10, SaveSteps 0
// (checkpoints at epoch ends only), SaveTotalLimit 2, EvalEachEpoch true
// (the best model by dev micro F1 is kept; without it, or without a dev
// split, the last epoch's). OutDir is required; it receives best/ (the
// best model, a HF model directory), checkpoint-<step>/ (the resumable
// states), metrics.jsonl, run.json and the test report.
type TrainOptions struct {
	engine.Options

	// MaxLen is the longest input in sub-tokens, [CLS] and [SEP] included.
	// Longer sentences are cut into overlapping windows (never truncated).
	// Default 256.
	MaxLen int
	// Stride is the most sub-tokens consecutive windows of one sentence
	// share (tokenize.Tokenizer.EncodeWordsWindows); it must be below
	// MaxLen-2. Default 32.
	Stride int
	// EvalBatchSize is the batch size of dev/test prediction. Default 32.
	EvalBatchSize int
	// Scheme is the tagging scheme the model learns; the training tags are
	// converted to it. Default IOB2 (the zero value).
	Scheme Scheme
	// LabelAll gives every sub-token of a word the word's label in the loss
	// (HF label_all_tokens); by default only the first sub-token is
	// labelled and the others are ignored (-100).
	LabelAll bool
	// ClassWeights weighs the cross-entropy loss per label ("O", "B-C", …);
	// labels not listed weigh 1. nil = unweighted.
	ClassWeights map[string]float64
	// BalanceClasses sets each label's weight to n/(L·n_l) (scikit-learn's
	// "balanced"; n labelled sub-tokens, L labels, n_l of label l, a label
	// never seen weighs 1), multiplied by ClassWeights when both are given.
	BalanceClasses bool
	// EarlyStopping stops after this many evaluations without a better dev
	// F1 (0 = never).
	EarlyStopping int
	// SaveEpochModels keeps the model directories of the last this many
	// epochs as OutDir/epoch-N besides best/ (0 = none).
	SaveEpochModels int
	// CUDAGraph records the forward and backward pass of a micro-batch as
	// a CUDA graph once and replays it for every later one (staticStep in
	// train_graph.go): batches are then padded to BatchSize × MaxLen. At
	// the paper's batch 4 × 256 a GPU step is bound by kernel launches,
	// which a graph removes. It needs a CUDA device and bbshim's graphs,
	// and is refused with fp16 (its loss scale changes) and class weights.
	// Default false.
	CUDAGraph bool
	// WordSplitter is the splitter whose words the training corpus has,
	// recorded in the model directories' ModelConfigFile so that a Tagger
	// splits raw text the same way. "" means the corpus' own:
	// tokenize.SplitterBERT for corpora read from text with standoff
	// annotations (ReadSemClinBr, ReadBRAT split the text with
	// tokenize.SplitWords), tokenize.SplitterClinical for corpora of given
	// tokens (CLINpt, CoNLL).
	WordSplitter tokenize.WordSplitter
	// CRF puts a linear-chain CRF on the classifier (flair's use_crf): the
	// loss is its negative log-likelihood per labelled token and decoding
	// adds its transition scores (crf.go). Its weights are saved in
	// CRFFile. Not with CUDAGraph, class weights or LabelAll. Default
	// false.
	CRF bool
	// Decode is how dev and test tags are read from the label scores.
	// Default DecodeViterbi (the zero value): the best tag sequence the
	// scheme allows.
	Decode Decode
	// Card fills the model card written into best/ (README.md).
	Card CardOptions

	// hooks are test switches (export_test.go).
	hooks trainHooks
}

// trainHooks are Train's test switches.
type trainHooks struct {
	// engine's: deferred loss reads on the CPU, the fp16 scaler at any
	// precision, a fault-injection callback.
	engine engine.Hooks
	// fixedShapes takes CUDAGraph's fixed-shape path without recording a
	// graph (the CPU cannot).
	fixedShapes bool
}

// DefaultTrainOptions returns the paper's fine-tuning options. OutDir is
// left empty.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{
		Options: engine.Options{
			Epochs:         10,
			BatchSize:      4,
			GradAccum:      1,
			LR:             3e-5,
			WarmupRatio:    0.1,
			WeightDecay:    0.01,
			AdamBeta1:      0.9,
			AdamBeta2:      0.999,
			AdamEpsilon:    1e-8,
			MaxGradNorm:    1.0,
			Seed:           42,
			Device:         "cpu",
			Precision:      bert.DefaultPrecision,
			LogSteps:       10,
			SaveTotalLimit: 2,
			EvalEachEpoch:  true,
		},
		MaxLen:        256,
		Stride:        32,
		EvalBatchSize: 32,
		Scheme:        IOB2,
	}
}

// Validate reports the first invalid field by name.
func (o TrainOptions) Validate() error {
	if err := o.Options.ValidateOutDir(); err != nil {
		return fmt.Errorf("ner: train options: %w", err)
	}
	if err := o.Options.Validate(); err != nil {
		return fmt.Errorf("ner: train options: %w", err)
	}
	bad := func(field string, v any, want string) error {
		return fmt.Errorf("ner: train options: %s %v: %s", field, v, want)
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case o.MaxLen < 3:
		return bad("MaxLen", o.MaxLen, "want >= 3 ([CLS], a token, [SEP])")
	case o.Stride < 0 || o.Stride >= o.MaxLen-2:
		return bad("Stride", o.Stride, fmt.Sprintf("want 0 <= Stride < MaxLen-2 = %d", o.MaxLen-2))
	case o.EvalBatchSize < 1:
		return bad("EvalBatchSize", o.EvalBatchSize, "want >= 1")
	case o.EarlyStopping < 0:
		return bad("EarlyStopping", o.EarlyStopping, "want >= 0 (0 = off)")
	case o.SaveEpochModels < 0:
		return bad("SaveEpochModels", o.SaveEpochModels, "want >= 0")
	case o.CUDAGraph && o.Precision == bert.PrecisionFP16:
		return bad("CUDAGraph", true, "not with fp16 (its loss scale changes between steps); use bf16 or fp32")
	case o.CUDAGraph && (o.ClassWeights != nil || o.BalanceClasses):
		return bad("CUDAGraph", true, "not with class weights")
	case o.CRF && o.CUDAGraph:
		return bad("CRF", true, "not with CUDAGraph (the CRF's forward algorithm loops over each batch's sequence length)")
	case o.CRF && (o.ClassWeights != nil || o.BalanceClasses):
		return bad("CRF", true, "not with class weights (they weigh the cross-entropy loss)")
	case o.CRF && o.LabelAll:
		return bad("CRF", true, "not with LabelAll (the CRF chains words, one labelled sub-token each)")
	}
	if err := o.Scheme.Validate(); err != nil {
		return fmt.Errorf("ner: train options: Scheme: %w", err)
	}
	if o.WordSplitter != "" {
		if err := o.WordSplitter.Validate(); err != nil {
			return fmt.Errorf("ner: train options: WordSplitter: %w", err)
		}
	}
	if err := o.Decode.Validate(); err != nil {
		return fmt.Errorf("ner: train options: Decode: %w", err)
	}
	for l, w := range o.ClassWeights {
		if !finite(w) || w < 0 {
			return bad("ClassWeights["+l+"]", w, "want a finite weight >= 0")
		}
	}
	return nil
}
