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

// TestDropOldWork: a go.work written by an earlier setup (this module plus
// a replace of gotch into the cache) is removed with its go.work.sum; a
// workspace of the user's own is left as it is, only without the gotch
// replace.
func TestDropOldWork(t *testing.T) {
	for _, tc := range []struct {
		name, work string
		kept       bool
	}{
		{"earlier setup's", "go 1.26\n\nuse .\n\nreplace github.com/sugarme/gotch v0.9.1 => /root/.cache/biobertpt/gotch-x\n", false},
		{"user's workspace", "go 1.26\n\nuse (\n\t.\n\t../other\n)\n\nreplace github.com/sugarme/gotch v0.9.1 => /root/.cache/biobertpt/gotch-x\n", true},
		{"without gotch", "go 1.26\n\nuse .\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/m\n\ngo 1.26\n"), 0o644))
			work := filepath.Join(dir, "go.work")
			require.NoError(t, os.WriteFile(work, []byte(tc.work), 0o644))
			require.NoError(t, os.WriteFile(work+".sum", nil, 0o644))
			require.NoError(t, dropOldWork(dir))
			b, err := os.ReadFile(work)
			if !tc.kept {
				assert.ErrorIs(t, err, os.ErrNotExist)
				assert.NoFileExists(t, work+".sum")
				return
			}
			require.NoError(t, err)
			assert.NotContains(t, string(b), "/root/.cache")
			assert.FileExists(t, work+".sum")
		})
	}
}
