package safetensors

import (
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts re-marshals to a
// file it parses to the same tensors.
func FuzzParse(f *testing.F) {
	x, _ := FromFloat32s(F32, []int64{2}, []float32{1, 2})
	y, _ := FromInt64s([]int64{1}, []int64{7})
	good, _ := Marshal(map[string]Tensor{"x": x, "y": y}, map[string]string{"format": "pt"})
	f.Add(good)
	f.Add(build(`{"a":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}`, []byte{0, 0x3c}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		ts, meta, err := Parse(raw)
		if err != nil {
			return
		}
		again, err := Marshal(ts, meta)
		if err != nil {
			t.Fatalf("accepted tensors do not marshal: %v", err)
		}
		ts2, _, err := Parse(again)
		if err != nil {
			t.Fatalf("re-marshalled file does not parse: %v", err)
		}
		if len(ts2) != len(ts) {
			t.Fatalf("%d tensors, then %d", len(ts), len(ts2))
		}
		for k, v := range ts {
			w := ts2[k]
			if w.DType != v.DType || string(w.Data) != string(v.Data) || len(w.Shape) != len(v.Shape) {
				t.Fatalf("%q changed", k)
			}
		}
	})
}
