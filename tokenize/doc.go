// Package tokenize is a BERT WordPiece tokenizer that produces exactly the
// ids and offsets of HuggingFace's BertTokenizerFast (tokenizers' Rust
// BertNormalizer + BertPreTokenizer + WordPiece + BERT TemplateProcessing),
// for mBERT's cased vocabulary used by BioBERTpt (Schneider et al. 2020) and
// for uncased vocabularies, plus the pieces a Portuguese clinical NER and
// MLM pipeline needs: pre-split words with word ids and label alignment,
// windows over long sentences, a sentence splitter and a WordPiece
// vocabulary trainer. It does not import libtorch.
//
// Reference: huggingface/tokenizers (tokenizers/src/normalizers/bert.rs,
// pre_tokenizers/bert.rs, models/wordpiece/mod.rs), checked against npm
// tokenizers@0.23.2 on the fixtures in testdata/.
//
// # Pipeline (HF order)
//
//  1. Literal special tokens ([UNK] [CLS] [SEP] [PAD] [MASK]) are split out of
//     the raw text, case-sensitively, leftmost-longest (added tokens with
//     normalized=false).
//  2. clean_text: NUL, U+FFFD and control characters (Cc, Cf, Co of Unicode
//     8.0, the tables HF's unicode_categories crate has, except \t \n \r) are
//     deleted; whitespace (Rust char::is_whitespace: includes U+00A0,
//     U+2028, U+3000) becomes a space. Unassigned code points are kept.
//  3. CJK ideographs (HF's ranges, U+2B920 start included) become words.
//  4. strip_accents (default: follows Lowercase, HF strip_accents=None): NFD,
//     then non-spacing marks (Unicode 8.0 Mn) are deleted.
//  5. lowercase: Rust char::to_lowercase ("İ" becomes "i̇").
//  6. Words are split on spaces; each punctuation character (ASCII 33-47,
//     58-64, 91-96, 123-126, or Unicode 8.0 P*) is a word of its own.
//  7. WordPiece: greedy longest match from the left, continuation pieces
//     prefixed "##"; a word longer than 100 runes, or with no complete
//     decomposition, is one [UNK].
//  8. [CLS] A [SEP] (B [SEP]), type ids 0 for A's part and 1 for B's.
//
// # Offsets
//
// Every token carries rune (code point, as HF's Python offsets) and byte
// offsets [start, end) into the original string: the span from the first
// to the last original character its normalized characters come from.
// Added [CLS]/[SEP]/[PAD] have [0, 0]; a literal "[MASK]" in the text has its
// real span and a word id. With pre-split words (EncodeWords) offsets are
// relative to each word, as HF returns them.
//
// # Invalid UTF-8
//
// Never a panic or an error: each invalid byte is treated as U+FFFD, which
// clean_text deletes (what HF gives after Python/Rust decode with
// errors="replace"), and counts as one rune in rune offsets (as
// utf8.RuneCountInString). Use ValidateUTF8 to report the byte position
// instead.
//
// # Performance
//
// The hot path hashes nothing and allocates nothing per word: a run of
// ASCII word bytes is copied at once (one table lookup per byte), other
// code points below U+2100 take their class and normalized form from a
// table each Tokenizer builds for its mode (the rest go through the
// per-rune definition: Unicode tables, NFD, Rust lowercase), and
// WordPiece's longest match walks a double-array trie of the vocabulary
// byte by byte, keeping the longest match that ends on a rune boundary
// (what HF's search from the longest candidate down finds). Scratch buffers
// are pooled per Tokenizer; the vocabulary is one string plus offsets, so
// the garbage collector does not scan 119,547 strings. reference_test.go
// keeps the plain per-rune, map-based implementation and checks the fast
// paths against it on seeded random and fuzzed text in every mode.
//
// BenchmarkEncode, 150 Portuguese clinical sentences x 20, on a 2-core AMD
// EPYC shared with other builds (benchstat medians of 6 runs of 2 s
// alternating with the previous map-based implementation; one goroutine
// unless workers are named; the spread was +-40-60% from the other load, so
// read ratios rather than absolutes):
//
//	MiB/s                     before   after
//	EncodeIDs cased             12.4    46.4  (7.0M words/s)
//	EncodeIDs uncased            6.1    38.9
//	Encode cased (offsets)       3.6    12.4
//	Encode uncased               3.3    10.3
//	sugarme stock Encode         0.2     0.3  (same runs)
//	EncodeIDsBatch, 1 worker       -    41.2
//	EncodeIDsBatch, GOMAXPROCS  12.0    50.3
//	EncodeBatch, GOMAXPROCS        -    19.6
//
// Encode is slower than EncodeIDs mostly because it allocates the nine
// slices of an Encoding (about 100 bytes a token) and the garbage
// collection that follows. EncodeBatch and EncodeIDsBatch hand chunks of 64 texts to at
// most GOMAXPROCS (or the given number of) workers, and allocate the
// results of a chunk together. (Scaling with workers could not be shown on
// the shared 2-core machine, where even a spin loop did not speed up on two
// goroutines.) Building the trie for mBERT's vocabulary takes about 50 ms.
//
// # Label alignment and windows
//
// AlignLabels gives a word's label to its first sub-token and -100 to the
// others (HF's NER recipe) or to all of them. EncodeWordsWindows cuts a long
// sentence into windows at word boundaries; AssignWords picks, for each
// word, the window where its first sub-token is farthest from a window edge
// (ties: the earlier window), so predictions reassemble deterministically.
package tokenize
