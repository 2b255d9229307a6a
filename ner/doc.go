// Package ner fine-tunes and applies BERT token classifiers for clinical
// named-entity recognition, as BioBERTpt does: readers for CLINpt,
// SemClinBr, CoNLL columns and brat standoff into one Corpus model, tag
// schemes (IOB2, IOB1, IO, IOE1, IOE2, IOBES, BILOU), seeded document
// splits and k folds, Train with the paper's settings (DefaultTrainOptions),
// a Tagger for raw text, per-group evaluation for SemClinBr and seed-sweep
// summaries.
//
// Contract:
//   - Readers never drop data silently: every merged, clipped or split
//     annotation is counted in Corpus.Report and described in
//     Corpus.Warnings; a format error names the file and line or offset
//     (with Lenient it becomes a warning counted in Report.Skipped).
//   - Threads: Train runs all torch work on the calling goroutine, locked
//     to its OS thread. A Tagger runs its model on its own goroutine,
//     locked to its thread, and is safe for concurrent use; Close frees
//     the model, and predictions after it fail.
//   - Devices: TrainOptions.Device and TaggerOptions.Device are "cpu"
//     (default), "cuda" or "cuda:N".
//   - Errors: Train and Load wrap bert's sentinels (errors.Is with
//     bert.ErrOutOfMemory, bert.ErrModelNotFound, bert.ErrCancelled).
//     When ctx is cancelled, Train finishes the optimizer step, saves a
//     checkpoint and returns an error wrapping ctx.Err().
//   - Output: OutDir holds run.json, resumable checkpoint-<step>/ (HF
//     Trainer's layout), best/ (an HF model directory with the tokenizer
//     and a model card) and the reports, all written atomically. A
//     directory holding another run is refused unless Resume or
//     OverwriteOutputDir; a resumed CPU run ends bit for bit as an
//     uninterrupted one.
//   - Entities carry offsets in Unicode code points, End exclusive; decoding
//     never yields a tag sequence the labels' scheme forbids.
//
// docs/NER.md has the readers' rules, the schemes, the splits, the
// training and output details and the CRF head; docs/DATA.md says where
// each corpus comes from and the layout the commands expect.
package ner
