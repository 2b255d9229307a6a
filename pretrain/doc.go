// Package pretrain continues the masked-language-model pretraining of a
// BERT model on Portuguese clinical and biomedical text, as BioBERTpt did
// (Schneider et al., ClinicalNLP 2020): mBERT trained 5 more epochs,
// batch 4, learning rate 2e-5, blocks of 512 tokens, 15% masking, on
// clinical notes (clin), on SciELO and PubMed (bio), or on both in turn
// (all). See Variants and DefaultOptions.
//
// The data pipeline mirrors HF's run_mlm.py and imports no torch:
//
//	ReadCorpus → BuildCache → NewDatasets → Batcher + Masker → Batch
//
// Train and Perplexity build on it with package bert.
//
// Contract:
//   - Threads: Train and Perplexity run all torch work on the calling
//     goroutine, locked to its OS thread; the pipeline needs no locking.
//   - Memory: a Cache is a memory mapping; Close releases it, and the
//     slices Sentence returns alias it (read only, invalid after Close).
//   - Reproducibility: every batch and mask is a function of (Seed,
//     Position), and dropout is reseeded per micro-batch (RNGRule), so a
//     run resumed from a checkpoint sees the same batches, masks and
//     dropout as an uninterrupted one.
//   - Errors: ErrEmptyCorpus (no text), ErrCorruptCache (OpenCache; a
//     corrupt file is rebuilt by BuildCache), bert's sentinels (out of
//     memory, cancelled); input errors name the file, line and byte
//     offset. When ctx is cancelled, Train finishes the step, writes a
//     checkpoint and returns an error wrapping ctx.Err().
//   - Output: OutDir holds run.json, atomic checkpoints, metrics.jsonl
//     and final/, an HF model directory. A directory holding another run
//     is refused unless Resume (same data and options) or
//     OverwriteOutputDir.
//
// docs/PRETRAIN.md has the conventions, the masking rules, the random
// streams, the cache file format and the training loop's details.
package pretrain
