// Package testutil builds the fixtures that the example programs' tests
// share: a tiny, freshly initialised BERT model directory over the demo
// clinical vocabulary (bert.TinyConfig: hidden 32, 2 layers, 4 heads; the
// tokenizer of internal/demodata, saved as tokenize.Tokenizer.Save does),
// the demo NER corpus in CLINpt's columns (token, POS, lemma, tag) and text
// files cut from the demo clinical notes; and the checks every example
// program's test makes of its command line (UsageError, Help). Every
// fixture lives under t.TempDir() and fails the test (require) on error.
package testutil
