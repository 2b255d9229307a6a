package main

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// rng is a seeded source with the helpers the templates need.
type rng struct{ *rand.Rand }

func newRNG(a, b uint64) *rng { return &rng{rand.New(rand.NewPCG(a, b))} }

// between returns an int in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.IntN(hi-lo+1) }

func (r *rng) float(lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

func (r *rng) chance(p float64) bool { return r.Float64() < p }

func pick[T any](r *rng, xs []T) T { return xs[r.IntN(len(xs))] }

func itoa(n int) string { return strconv.Itoa(n) }

// decimal formats x with d decimals and a decimal comma, as Portuguese does.
func decimal(x float64, d int) string {
	return strings.Replace(strconv.FormatFloat(x, 'f', d, 64), ".", ",", 1)
}
