// Package progress reports the progress of long training jobs: a status
// line (Bar) and a machine-readable metrics log (MetricsLog).
//
// Bar shows step/total, epoch, smoothed loss, learning rate, tokens per
// second, elapsed time and ETA. On a terminal it rewrites one line with
// "\r" at most every Options.Refresh (250 ms: ~4 per second); written to a
// pipe or file it prints a plain line every Options.Interval (30 s), so logs
// stay readable. Finish prints the final state and a newline.
// Counter draws the same way for jobs over a known number of items
// (documents): done/total, items and tokens per second, elapsed and ETA
// = elapsed / done × (total − done).
//
// Formulas. The loss shown is an exponential moving average with the
// start-up bias removed (as Adam's moments): s ← β·s + (1 − β)·loss,
// shown s / (1 − βⁿ) after n updates, β = 1 − Options.Smoothing.
// tokens/s = tokens since New / elapsed; ETA = elapsed / (step − StartStep)
// × (total − step), with StartStep the step a resumed run starts from.
//
// MetricsLog appends one JSON object per line, {"time": RFC 3339 UTC,
// "step": n, "kind": "train"|"eval"|…, <name>: value, …}, to a file, written
// with one write call per line so that a crash loses at most the line in
// flight; with MetricsOptions.CSV it writes CSV instead, with the columns
// fixed by the first record.
package progress
