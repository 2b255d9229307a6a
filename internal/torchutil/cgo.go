package torchutil

// #include <stdint.h>
// void at_manual_seed(int64_t);
// int at_get_num_threads();
// void at_set_num_threads(int n_threads);
// int at_grad_set_enabled(int b);
import "C"

// ManualSeed seeds libtorch's default generators (CPU and, when present,
// CUDA), as torch.manual_seed does.
func ManualSeed(seed int64) { C.at_manual_seed(C.int64_t(seed)) }

// NumThreads returns libtorch's intra-op thread count.
func NumThreads() int { return int(C.at_get_num_threads()) }

// SetNumThreads sets libtorch's intra-op thread count; n < 1 is ignored.
func SetNumThreads(n int) {
	if n >= 1 {
		C.at_set_num_threads(C.int(n))
	}
}

// setGradEnabled sets libtorch's thread-local grad mode and returns the
// previous mode. It calls at_grad_set_enabled directly because gotch's
// ts.GradSetEnabled reads the C int result through an 8-byte Go int pointer
// and so returns garbage for the previous state.
func setGradEnabled(on bool) bool {
	b := C.int(0)
	if on {
		b = 1
	}
	return C.at_grad_set_enabled(b) == 1
}
