//go:build biobertpt_cudashim

package bench

// #cgo CXXFLAGS: -std=c++17
// int biobertpt_set_allow_tf32(int on, int* prev, char* msg, int msglen);
import "C"

import (
	"fmt"
	"unsafe"
)

// shimAvailable reports whether this build has cudashim.cpp.
const shimAvailable = true

// setAllowTF32 sets at::globalContext().setAllowTF32CuBLAS (matmuls) and
// setAllowTF32CuDNN, as torch.set_float32_matmul_precision("high"/"highest")
// does for CUDA, and returns the previous cuBLAS setting.
func setAllowTF32(on bool) (prev bool, err error) {
	var p C.int
	msg := make([]byte, 512)
	v := C.int(0)
	if on {
		v = 1
	}
	if C.biobertpt_set_allow_tf32(v, &p, (*C.char)(unsafe.Pointer(&msg[0])), C.int(len(msg))) != 0 {
		n := 0
		for n < len(msg) && msg[n] != 0 {
			n++
		}
		return false, fmt.Errorf("bench: setAllowTF32CuBLAS: %s", msg[:n])
	}
	return p != 0, nil
}
