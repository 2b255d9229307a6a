package trainstate_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/internal/trainstate"
)

func Example() {
	out, _ := os.MkdirTemp("", "run")
	defer os.RemoveAll(out)
	saveModel := func(dir string) error { // a model's Save writes its files here
		return os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"hidden_size":768}`), 0o644)
	}
	for _, step := range []int64{100, 200} {
		s := &trainstate.State{Step: step, Epoch: float64(step) / 100, Seed: 42,
			DataPosition: json.RawMessage(fmt.Sprintf(`{"batch":%d}`, step))}
		if err := trainstate.Save(out, s, saveModel, nil); err != nil {
			fmt.Println(err)
			return
		}
	}
	os.Truncate(filepath.Join(out, "checkpoint-200", "config.json"), 3) // damage the newest

	dir, err := trainstate.Latest(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := trainstate.Load(dir)
	var pos struct{ Batch int }
	_ = json.Unmarshal(s.DataPosition, &pos)
	fmt.Println(filepath.Base(dir), s.Step, pos.Batch)
	// Output: checkpoint-100 100 100
}
