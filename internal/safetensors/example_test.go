package safetensors_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/internal/safetensors"
)

func Example() {
	dir, _ := os.MkdirTemp("", "st")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	w, _ := safetensors.FromFloat32s(safetensors.BF16, []int64{2, 2}, []float32{1, 2, 3, 0.1})
	if err := safetensors.WriteFile(path, map[string]safetensors.Tensor{"w": w}, map[string]string{"format": "pt"}); err != nil {
		fmt.Println(err)
		return
	}
	ts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, _ := ts["w"].Float32s()
	fmt.Println(ts["w"].DType, ts["w"].Shape, v, meta["format"])
	// Output: BF16 [2 2] [1 2 3 0.100097656] pt
}
