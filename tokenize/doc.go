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
// # Label alignment and windows
//
// AlignLabels gives a word's label to its first sub-token and -100 to the
// others (HF's NER recipe) or to all of them. EncodeWordsWindows cuts a long
// sentence into windows at word boundaries; AssignWords picks, for each
// word, the window where its first sub-token is farthest from a window edge
// (ties: the earlier window), so predictions reassemble deterministically.
package tokenize
