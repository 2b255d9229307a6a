// Package demodata embeds the small synthetic Portuguese clinical data the
// quickstart demo and the CPU tests train on, so that they run on a fresh
// machine with nothing downloaded:
//
//   - ClinicalText: about 240 kB of Portuguese (Brazilian) clinical notes,
//     discharge summaries, progress notes, exam reports and prescriptions,
//     one sentence a line and a blank line between notes, for continued
//     masked-language-model pretraining;
//   - NERFS: 96 annotated files (1,198 sentences) in the column format of
//     CLINpt (Lopes et al. 2019, "Contributions to Clinical Named Entity
//     Recognition in Portuguese", BioNLP): token<TAB>POS<TAB>lemma<TAB>tag,
//     IOB2 tags over CLINpt's 13 entity types (EntityTypes), sentences ending
//     at ".", "!" or "?" (no blank lines), one file a document, some
//     documents split into parts named "docNN 1.tsv", "docNN 2.tsv";
//   - Vocab: a cased WordPiece vocabulary (3,000 entries) covering every
//     character of both texts, with mBERT's special-token ids (PadID,
//     UnkID, CLSID, SEPID, MaskID);
//   - SampleSentence: a sentence for the tagger demo that occurs in neither
//     text.
//
// Everything was written for this project (not copied from any corpus) by
// the deterministic generator in gen/, which combines hand-written sentence
// templates and word lists and adds hand-written free paragraphs. The POS
// and lemma columns are synthetic (a small lexicon and suffix rules; lemma =
// lower-cased token): nothing in the demo reads them. README.md states the
// annotation guideline and how the vocabulary was selected.
//
// The data is a demonstration, not clinical evidence: its sentences combine
// conditions, sites and drugs at random and are often medically incoherent.
package demodata
