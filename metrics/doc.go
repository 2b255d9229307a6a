// Package metrics computes the evaluation numbers of BioBERTpt (Schneider et
// al. 2020, Tables 2 and 3): entity-level precision, recall and F1 exactly
// as the CoNLL conlleval script (2004-01-26) and seqeval (v1.2) compute
// them, label-based multi-label metrics for SemClinBr (Sorower 2010), and
// the paper's significance tests (Friedman, then Wilcoxon signed-rank
// post-tests) as SciPy 1.10.1 computes them, plus paired bootstrap
// confidence intervals and tests.
//
// Contract:
//   - Pure Go: no gotch, no mutable global state; every function is
//     safe for concurrent use on distinct inputs.
//   - [Entities] turns tags into chunks under a [Scheme] and a [Mode]:
//     [Conlleval] (conlleval.pl's rules, its counts on every input,
//     ill-formed ones included), [Lenient] (seqeval's default) or [Strict]
//     (seqeval's strict mode, where tags the scheme does not allow are an
//     error in [Evaluate] and O in [Entities]). [Entity].End is exclusive.
//   - A division by zero yields Options.ZeroDivision (0 by default), as
//     seqeval's zero_division; the types scored are the union of gold and
//     predicted types.
//   - [ReadConll] reads conlleval's input format and [WriteConlleval]
//     writes its report byte for byte (without -l); errors name the line.
//   - [Friedman], [Wilcoxon] and [PostHoc] equal SciPy's tests;
//     [BootstrapCI] and [PairedBootstrap] are seeded, so reproducible.
//
// docs/METRICS.md has the chunk rules, the score equations, the file
// format, the multi-label averages and the tests.
package metrics
