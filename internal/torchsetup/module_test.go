package torchsetup

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSkeletonCommitted checks that the skeleton this repository commits
// in .biobertpt/gotch is the one setup writes, and that git ignores what
// setup fills in beside it.
func TestSkeletonCommitted(t *testing.T) {
	root := filepath.Join("..", "..", filepath.FromSlash(LocalDir))
	for rel, want := range SkeletonFiles() {
		got, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err, rel)
		assert.Equal(t, want, string(got), rel)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	for rel := range SkeletonFiles() {
		out, _ := exec.Command("git", "-C", root, "check-ignore", "-q", rel).CombinedOutput()
		assert.Empty(t, strings.TrimSpace(string(out)))
		assert.Error(t, exec.Command("git", "-C", root, "check-ignore", "-q", rel).Run(), "%s must be committed", rel)
	}
	for _, rel := range []string{"ts/tensor.go", "libtch/lib.go", "bbshim/cgo_flags.go", "ts/" + doneFile, doneFile, "vision/aug/x.go"} {
		assert.NoError(t, exec.Command("git", "-C", root, "check-ignore", "-q", rel).Run(), "%s must be ignored", rel)
	}
}

// TestStubSourceNamesSetup: a build before setup fails on an identifier
// that reads as the setup command.
func TestStubSourceNamesSetup(t *testing.T) {
	s := stubSource("ts")
	assert.Contains(t, s, "package ts\n")
	assert.Contains(t, s, "var _ = "+setupIdent)
	assert.Equal(t, "run_setup_first__"+strings.NewReplacer(" ", "_", "/", "_", ".", "_", "-", "_").Replace("go run github.com/biobertpt-go/biobertpt/examples/setup"), setupIdent)
	assert.Contains(t, doneSource("ts"), "const "+setupIdent+" = true")
}
