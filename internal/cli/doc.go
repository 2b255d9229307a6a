// Package cli holds what the example programs share around their run
// functions: the exit-status convention and usage errors (Main, Status,
// Usagef), their flag sets (NewFlagSet; NERTrain, the fine-tuning flags of
// ner-clinpt and ner-semclinbr), model resolution (ResolveModel) and the
// results.json writer (WriteJSON).
package cli
