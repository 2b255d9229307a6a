package bert

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
)

// ErrNonFinite marks weights or outputs that hold NaN or ±Inf. A model with
// such a weight computes NaN logits, whose argmax is an arbitrary class
// ("O" for a tagger) and whose perplexity is NaN: answers that look valid.
// Loading refuses such a checkpoint with an error that wraps ErrNonFinite
// and names every offending tensor; callers that check outputs (the NER
// tagger, perplexity, the CLI) wrap it too, so errors.Is(err,
// ErrNonFinite) recognises both.
var ErrNonFinite = errors.New("non-finite values (NaN or Inf)")

// NonFinite counts the NaN and the infinite elements of a floating-point
// tensor (F64, F32, F16, BF16) from its bytes; other dtypes hold neither
// and give 0, 0. It reads the exponent bits directly, without libtorch: an
// element is non-finite when its exponent is all ones, NaN when its
// mantissa is then non-zero.
func NonFinite(t safetensors.Tensor) (nan, inf int64) {
	switch t.DType {
	case safetensors.F32:
		return countNonFinite32(t.Data)
	case safetensors.F16:
		return countNonFinite16(t.Data, 0x7c00, 0x03ff)
	case safetensors.BF16:
		return countNonFinite16(t.Data, 0x7f80, 0x007f)
	case safetensors.F64:
		const exp, mant = 0x7ff0000000000000, 0x000fffffffffffff
		for i := 0; i+8 <= len(t.Data); i += 8 {
			if b := binary.LittleEndian.Uint64(t.Data[i:]); b&exp == exp {
				if b&mant != 0 {
					nan++
				} else {
					inf++
				}
			}
		}
	}
	return nan, inf
}

func countNonFinite32(data []byte) (nan, inf int64) {
	// Large tensors (the word embeddings) are split across the cores.
	const chunk = 8 << 20 // bytes, a multiple of 32
	if workers := runtime.GOMAXPROCS(0); workers > 1 && len(data) > chunk {
		type count struct{ nan, inf int64 }
		parts := (len(data) + chunk - 1) / chunk
		counts := make([]count, parts)
		next := make(chan int, parts)
		for p := range parts {
			next <- p
		}
		close(next)
		var wg sync.WaitGroup
		for range min(workers, parts) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range next {
					d := data[p*chunk : min(len(data), (p+1)*chunk)]
					counts[p].nan, counts[p].inf = countNonFinite32Serial(d)
				}
			}()
		}
		wg.Wait()
		for _, c := range counts {
			nan, inf = nan+c.nan, inf+c.inf
		}
		return nan, inf
	}
	return countNonFinite32Serial(data)
}

func countNonFinite32Serial(data []byte) (nan, inf int64) {
	// Fast path: 8 elements per round in four 64-bit words. A 32-bit lane
	// of y is zero exactly when that element's exponent is all ones; the
	// lanes are below 2³¹, so the zero-lane test (y − 1…1) &^ y & 8…8 has
	// no false positives. Only rounds with a hit are counted element-wise.
	const exp2, ones, highs = 0x7f8000007f800000, 0x0000000100000001, 0x8000000080000000
	for len(data) >= 32 {
		d := data[:32:32]
		y0 := binary.LittleEndian.Uint64(d[0:])&exp2 ^ exp2
		y1 := binary.LittleEndian.Uint64(d[8:])&exp2 ^ exp2
		y2 := binary.LittleEndian.Uint64(d[16:])&exp2 ^ exp2
		y3 := binary.LittleEndian.Uint64(d[24:])&exp2 ^ exp2
		if ((y0-ones)&^y0|(y1-ones)&^y1|(y2-ones)&^y2|(y3-ones)&^y3)&highs != 0 {
			n, f := countNonFinite32Slow(d)
			nan, inf = nan+n, inf+f
		}
		data = data[32:]
	}
	n, f := countNonFinite32Slow(data)
	return nan + n, inf + f
}

func countNonFinite32Slow(data []byte) (nan, inf int64) {
	const exp, mant = 0x7f800000, 0x007fffff
	for i := 0; i+4 <= len(data); i += 4 {
		if b := binary.LittleEndian.Uint32(data[i:]); b&exp == exp {
			if b&mant != 0 {
				nan++
			} else {
				inf++
			}
		}
	}
	return nan, inf
}

func countNonFinite16(data []byte, exp, mant uint16) (nan, inf int64) {
	for i := 0; i+2 <= len(data); i += 2 {
		if b := binary.LittleEndian.Uint16(data[i:]); b&exp == exp {
			if b&mant != 0 {
				nan++
			} else {
				inf++
			}
		}
	}
	return nan, inf
}

// CheckFinite returns nil when no floating-point tensor of w holds NaN or
// ±Inf, else an error wrapping ErrNonFinite that names every such tensor
// (sorted) with its counts:
//
//	"encoder.layer.0.output.dense.weight": 3 NaN, 0 Inf of 1024 values
//
// The load functions apply it to the tensors the model uses (keys of other
// heads that are ignored are not checked).
func CheckFinite(w map[string]safetensors.Tensor) error {
	var bad []string
	for _, k := range sortedKeys(w) {
		t := w[k]
		if nan, inf := NonFinite(t); nan+inf > 0 {
			bad = append(bad, fmt.Sprintf("%q: %d NaN, %d Inf of %d values", k, nan, inf, t.Numel()))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	const most = 10
	if len(bad) > most {
		bad = append(bad[:most], fmt.Sprintf("and %d more tensors", len(bad)-most))
	}
	return fmt.Errorf("%w in %s", ErrNonFinite, strings.Join(bad, "; "))
}

// firstNonFinite32 returns the index of the first NaN or ±Inf in v, or -1.
func firstNonFinite32(v []float32) int {
	for i, x := range v {
		if x != x || x > math.MaxFloat32 || x < -math.MaxFloat32 {
			return i
		}
	}
	return -1
}

// CheckFiniteOutput returns nil when every value of an output read back
// from the model is finite, else an error wrapping ErrNonFinite that names
// the output and the first bad value's flat index.
func CheckFiniteOutput(name string, v []float32) error {
	if i := firstNonFinite32(v); i >= 0 {
		return fmt.Errorf("%s: %w: element %d is %v (check the model's weights)", name, ErrNonFinite, i, v[i])
	}
	return nil
}
