// Package ner reads, converts, splits and counts named-entity corpora for
// token classification, as used to fine-tune BioBERTpt (Schneider et al.
// 2020, "BioBERTpt – A Portuguese Neural Language Model for Clinical Named
// Entity Recognition", ClinicalNLP@EMNLP): CLINpt (Lopes, Teixeira and
// Gonçalo Oliveira 2019), SemClinBr (Oliveira et al. 2022), CoNLL-style
// column files and brat standoff files.
//
// # Data model
//
// Every reader returns a Corpus of Documents of Sentences; a Sentence has
// Words and one Tag per word (IOB2 unless converted). Standoff formats
// (SemClinBr, BRAT) also fill Sentence.Labels (every label of every word,
// IOB2 per label) and the words' rune offsets into Document.Text.
//
// # Readers and their rules
//
//   - ReadCoNLL: word and tag columns (selectable), blank lines between
//     sentences, "-DOCSTART-" starts a document. WriteCoNLL writes it back.
//   - ReadCLINpt: one .xlsx (or .tsv/.txt/.csv) per document, columns token,
//     POS, lemma, tag. A sentence ends at an empty row, else after a token
//     made of ".", "!", "?" unless the next tag is I-. Files that are parts
//     of one text ("CO15 1", "CO15 2") share a Group (CLINptGroup).
//   - ReadSemClinBr and ReadBRAT: text plus character-offset annotations.
//     Words are tokenize.SplitWords of the text (BERT's basic
//     pre-tokenization, so punctuation is its own word) and sentences come
//     from the tokenizer's sentence splitter. A word belongs to an entity
//     when it overlaps the annotation's extent. Sentence.Tags keep one
//     label per word: annotations are taken outermost first (by first
//     word, then longest, then file order), an annotation is kept when none
//     of its words is taken yet, and it contributes its first label.
//     Sentence.Labels keep every label of every annotation, with the same
//     outermost-first rule applied per label. An annotation starting or
//     ending inside a word tags the whole word; one crossing a sentence
//     boundary becomes one entity per sentence; one covering no word is
//     left out. Each such case is counted in Corpus.Report and described in
//     Corpus.Warnings: nothing is dropped silently.
//
// Format errors (a missing column, an unknown tag, offsets outside the
// text, an annotation text that differs from the text at its offsets, an
// empty document) are errors naming the file and line or offset; with the
// Lenient option they become warnings, counted in Report.Skipped.
//
// # Schemes
//
// Scheme converts between IOB2 (the zero value), IOB1, IO, IOE1, IOE2,
// IOBES and BILOU through entity spans. Invalid sequences are read the way
// conlleval reads them: a word starts a new entity when its prefix is B (or
// S, U), when no entity is open, or when the open entity has another type;
// E, L, S, U close an entity. RepairTags writes that reading back in the
// scheme, so IOB2 "O I-X" becomes "O B-X".
//
// # Splits
//
// SplitDocuments deals seeded-shuffled document groups into train, dev and
// test parts (60/20/20 in the paper), KFold into k folds; WriteFileLists
// and ReadFileLists save and restore a split as lists of document IDs.
// SplitFromFiles reads a corpus that comes split (HF's train_file,
// validation_file, test_file), carving a seeded dev part out of the
// training file when none is given; Train records the files' SHA-256.
// ComputeStats counts documents, sentences, words and entities per type.
//
// Seed sweeps. SeedDir names one seed's run in a sweep directory and
// SummarizeSweep reads the runs' test reports and metrics into a
// SweepSummary (per-type, micro and macro precision, recall and F1 as mean,
// sample standard deviation, min and max over the seeds; the best seed by
// dev F1), written as summary.json and summary.md.
//
// Training and tagging. Train fine-tunes BERT + a token-classification head
// with the paper's settings (DefaultTrainOptions: max length 256, batch 4,
// AdamW lr 3e-5 with weight decay 0.01 except biases and LayerNorm weights,
// 10 epochs, linear schedule with 10% warmup, clipping 1.0, IOB2): the label
// set comes from the training split and is saved as id2label; sentences
// longer than MaxLen are split into overlapping windows (nothing is
// truncated, at training or evaluation); dev entity F1 (conlleval rules,
// package metrics) is computed every epoch and the best model is kept in
// OutDir/best, an HF model directory with the tokenizer files; the test
// report, conlleval-format predictions and metrics.jsonl (a JSON line
// every LogSteps optimizer steps, kind "train": loss, lr, grad_norm,
// tokens_per_s, peak_mem_gib, and with fp16 loss_scale and skipped_steps;
// a line per epoch, kind "epoch", with the dev scores and dev loss;
// internal/progress) are written to OutDir. best/README.md is the model's
// HF Hub model card (CardOptions): front matter with the test scores as a
// model-index, and the base model, data files and their SHA-256, split,
// hyper-parameters, per-type dev and test scores, environment, and the
// intended use and limitations for clinical text. On CUDA the step losses stay on the device between those lines,
// so a step does not wait for the GPU. Precision selects fp32, bf16 or fp16
// (with loss scaling) compute; MaxMemoryGiB caps memory (e.g. 11 GiB to
// check a 12 GB card on a larger GPU), and running out of memory is an
// error that says to lower the batch size and accumulate gradients.
// CUDAGraph pads every batch to BatchSize × MaxLen and replays a recorded
// CUDA graph of the forward and backward pass (train_graph.go), for GPUs
// where the small batches of fine-tuning are bound by kernel launches. The
// loop is internal/engine's, shared with package pretrain; the options it
// shares are TrainOptions' embedded engine options, named after HF
// TrainingArguments.
//
// Output you can trust. OutDir/run.json records what defines the run (the
// model's and the corpus files' SHA-256, the split's seed, fractions and
// per-part digests, the labels, every hyper-parameter); a directory that
// holds another run is refused unless Resume (with the same data and
// hyper-parameters: a change is refused naming the fields) or
// OverwriteOutputDir (the old run is moved aside, nothing is deleted), and
// PrepareOutDir lets a program check before it writes its own files there.
// The resumable state is saved as HF Trainer lays it out,
// OutDir/checkpoint-<step>/ with the model, optimizer.safetensors and
// trainer_state.json (internal/trainstate: atomic, the SHA-256 of every
// file recorded and verified on resume, falling back to the previous
// checkpoint when the newest is damaged), at every epoch end, every
// SaveSteps steps and on cancellation (SIGINT or SIGTERM in the commands).
// Dropout is reseeded from (Seed, step, micro-batch) and the data order
// from (Seed, epoch), so a run killed at any point and resumed ends with
// the uninterrupted run's weights, best model and reports, bit for bit on
// the CPU; metrics.jsonl marks the resume and logs every step once. best/,
// epoch-N/ and the reports are written atomically (a file in best/ that
// the trainer did not write is kept).
// For SemClinBr's one-model-per-group setup, EvaluateGroups tags a corpus
// with every group's binary model (trained on GroupCorpus), merges the
// predictions per word (MergeGroupTags) and scores them with label-based
// micro metrics (metrics.MultiLabel), as the paper does. Load returns a Tagger whose Predict splits raw text into
// sentences and words and returns entities with character offsets (Unicode
// code points, End exclusive); it is safe for concurrent use.
//
// # Words, decoding and the CRF head
//
// A model directory's ModelConfigFile records the word splitter its
// training corpus matches (tokenize.WordSplitter: clinical for CLINpt and
// CoNLL tokens, bert for SemClinBr and BRAT, whose words are
// tokenize.SplitWords of the text), and Predict splits raw text with it.
// Tags are decoded with constrained Viterbi (Decode): never a sequence the
// labels' scheme forbids. TrainOptions.CRF adds a linear-chain CRF head
// (crf.go), saved in CRFFile and used by the tagger's Viterbi.
// PredictTexts tags many texts in shared forward passes (what package
// ner/serve and predict -input batch through), each as Predict would.
package ner
