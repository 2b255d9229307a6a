package atomicfile_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
)

func ExampleWriteFile() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "trainer_state.json")
	err := atomicfile.WriteFile(p, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, `{"global_step": 10}`)
		return err
	})
	b, _ := os.ReadFile(p)
	fmt.Print(string(b), err)
	// Output:
	// {"global_step": 10}
	// <nil>
}
