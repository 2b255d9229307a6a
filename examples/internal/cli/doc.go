// Package cli holds what the example programs share around their run
// functions: the exit-status convention and usage errors (Main, Status,
// Usagef), their flag sets (NewFlagSet; NERTrain, the fine-tuning flags of
// ner-clinpt and ner-semclinbr), flag parsing with declared ranges
// (ParseFlags with Rule values: a value out of range, a NaN or ±Inf, a
// malformed number is a usage error naming the flag), model resolution
// (ResolveModel) and the results.json writer (WriteJSON, atomic).
package cli
