package engine

// DropoutRule is how the engine seeds libtorch's generators, written to
// every checkpoint's rng_state.
const DropoutRule = `dropout: torch.manual_seed(splitmix64(seed, "drop", step, micro) >> 1) before each micro-batch`

// DropoutSeed is the seed libtorch's generators get before micro-batch
// micro of optimizer step step (both from 0): SplitMix64's finaliser over
// (seed, "drop", step, micro), shifted to a non-negative int64. The
// dropout masks of a micro-batch are thus a function of (seed, step,
// micro) alone, and a run resumed from a checkpoint draws exactly what the
// uninterrupted run drew.
func DropoutSeed(seed int64, step, micro int) int64 {
	return int64(Mix(uint64(seed), 0x64726f70, uint64(step), uint64(micro)) >> 1) // "drop"
}

// Mix hashes its arguments into one 64-bit seed (the SplitMix64 finaliser
// applied after each argument).
func Mix(xs ...uint64) uint64 {
	var h uint64 = 0x9e3779b97f4a7c15
	for _, x := range xs {
		h ^= x
		h += 0x9e3779b97f4a7c15
		h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9
		h = (h ^ (h >> 27)) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}
