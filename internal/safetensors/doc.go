// Package safetensors reads and writes the safetensors file format
// (https://github.com/huggingface/safetensors, format description in its
// README) without any dependency on libtorch.
//
// A file is
//
//	8 bytes    N, the header length, unsigned 64-bit little-endian
//	N bytes    a JSON object: {"__metadata__": {string: string},
//	           "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//	rest       the byte buffer; each tensor's data is buffer[begin:end],
//	           row-major, little-endian
//
// ReadFile checks what the reference implementation checks: the header
// length fits in the file, the header is a JSON object, every dtype is known,
// end-begin equals numel × dtype size, and the tensors' byte ranges tile the
// buffer exactly (contiguous, no gaps, no overlap, ending at end of file).
// WriteFile writes tensors sorted by name, the metadata first, the header
// padded with spaces to a multiple of 8 bytes, through a temporary file in the
// same directory that is synced and renamed, so a reader never sees half a
// file.
//
// Conversions: F16 is IEEE 754 binary16 and BF16 is the upper half of a
// binary32; conversion to float32 is exact, conversion from float32 rounds to
// nearest, ties to even (NaN stays NaN, overflow gives ±Inf), as torch does.
package safetensors
