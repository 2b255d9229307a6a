//go:build !biobertpt_cudashim

package bench

// shimAvailable reports whether this build has cudashim.cpp.
const shimAvailable = false

func setAllowTF32(bool) (prev bool, err error) { return false, ErrNoTF32 }
