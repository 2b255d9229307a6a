// Package metrics computes the evaluation numbers of BioBERTpt (Schneider et
// al. 2020, "BioBERTpt - A Portuguese Neural Language Model for Clinical Named
// Entity Recognition", Tables 2 and 3): entity-level precision, recall and F1
// exactly as the CoNLL conlleval script (version 2004-01-26) and seqeval
// (v1.2) compute them, label-based multi-label metrics for SemClinBr (Sorower
// 2010), and the significance tests of the paper (Friedman, then Wilcoxon
// signed-rank post-tests) as SciPy computes them, plus paired bootstrap
// confidence intervals and tests. It does not import gotch.
//
// # Chunks
//
// A tag is PREFIX-TYPE or O. [Entities] turns a tag sequence into chunks
// (entities) under a [Scheme] (IOB2, IOB1, IO, IOE1, IOE2, IOBES, BILOU) and a
// [Mode]:
//
//   - [Conlleval]: the startOfChunk/endOfChunk rules of conlleval.pl,
//     verbatim. The tag is split at its first '-' into prefix and type. An I-X
//     after O or after another type starts a chunk; B, I, E, O, '[' and ']'
//     prefixes are understood, any other prefix only ends/starts chunks on a
//     change of type (so conlleval.pl merges S-X S-X into one chunk).
//   - [Lenient]: seqeval's default mode (get_entities), verbatim: the prefix is
//     the first character, the type what follows the first '-' ('_' if none),
//     and S/E tags are understood. With scheme BILOU the prefixes L and U are
//     read as E and S. For B/I/O tags Lenient and Conlleval agree.
//   - [Strict]: seqeval's strict mode (Tokens.entities with a declared scheme):
//     a chunk exists only if it starts, continues and ends by the scheme's
//     patterns; invalid transitions never form chunks. Tags whose prefix the
//     scheme does not allow are an error in [Evaluate] (seqeval raises
//     ValueError) and are read as O by [Entities].
//
// [Entity].End is exclusive, as in Go slices (seqeval's get_entities reports
// an inclusive end; its strict-mode Entity has an exclusive one).
//
// # Scores
//
// For a set of types T with, per type t, gold chunks G_t, predicted chunks P_t
// and correct chunks C_t (same sentence, start, end and type):
//
//	precision_t = C_t / P_t      recall_t = C_t / G_t
//	F1_t        = 2·p·r / (p + r)   (0 when p + r = 0)
//	micro: the same on ΣC, ΣP, ΣG;  macro: the unweighted mean over T;
//	weighted: the mean over T weighted by support G_t.
//
// T is the union of gold and predicted types (seqeval v1, conlleval.pl). A
// division by zero (P_t = 0 or G_t = 0) yields Options.ZeroDivision, 0 by
// default, as seqeval's zero_division ("warn" acts as 0). When Σ G_t = 0 the
// weighted average follows seqeval: precision and F1 are ZeroDivision if there
// are no predictions and 0 otherwise, recall is ZeroDivision. Token accuracy
// is the fraction of tokens whose predicted tag equals the gold tag (for
// Conlleval, equal prefix and type, as conlleval.pl). In Conlleval mode the
// counts come from a port of conlleval.pl's state machine, so they equal the
// script's counts on every input, including ill-formed ones.
//
// # Conlleval files
//
// [ReadConll] reads conlleval's input format: one token a line, fields
// separated by whitespace (or ConllOptions.Delimiter), the last two the gold
// and predicted tags, sentences separated by blank lines or lines whose first
// field is the boundary "-X-". "-DOCSTART-" lines are ordinary tokens tagged
// as they are (conlleval.pl counts them as tokens, and so does this package).
// [WriteConlleval] writes conlleval.pl's report byte for byte (without its -l
// LaTeX mode).
//
// # Multi-label
//
// [MultiLabel] computes label-based micro averages (Sorower 2010, §5.2):
// for each label λ, TP_λ, FP_λ and FN_λ are counted over all tokens' label
// sets; micro precision = ΣTP/(ΣTP+ΣFP), recall = ΣTP/(ΣTP+ΣFN); macro is
// the mean of per-label scores.
//
// # Significance
//
// [Friedman] equals scipy.stats.friedmanchisquare and [Wilcoxon] equals
// scipy.stats.wilcoxon of SciPy 1.10.1 (the Debian 12 python3-scipy); see
// their docs for the exact rules. [PostHoc] runs Wilcoxon over all pairs of
// models with an optional Holm or Bonferroni correction. [BootstrapCI] and
// [PairedBootstrap] resample sentences (or documents) with a seeded PCG
// generator.
package metrics
