// Package tokenize is a BERT WordPiece tokenizer that produces exactly the
// ids and offsets of HuggingFace's BertTokenizerFast, for mBERT's cased
// vocabulary (BioBERTpt's) and for uncased vocabularies, plus what a
// clinical NER and MLM pipeline needs: pre-split words with word ids and
// label alignment, windows over long sentences, a Portuguese sentence
// splitter and a WordPiece vocabulary trainer.
//
// Contract:
//   - A Tokenizer is safe for concurrent use; it does not import libtorch.
//   - Every token carries rune offsets (as HF's Python offsets) and byte
//     offsets [start, end) into the original string; added [CLS]/[SEP]/[PAD]
//     have [0, 0]. With pre-split words (EncodeWords) offsets are relative
//     to each word.
//   - Invalid UTF-8 is never a panic or an error: each invalid byte reads
//     as U+FFFD, which clean_text deletes (as HF after decoding with
//     errors="replace"); ValidateUTF8 reports the byte position instead.
//   - AlignLabels gives a word's label to its first sub-token and -100 to
//     the others (HF's NER recipe) or to all of them; EncodeWordsWindows and
//     AssignWords cut long sentences into windows at word boundaries and
//     reassemble predictions deterministically.
//
// docs/TOKENIZE.md describes the pipeline step by step, the offsets and
// the fast paths; BENCHMARKS.md has the throughput.
package tokenize
