//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
)

// TestLimitedChild is the child process of testutil.RunLimited.
func TestLimitedChild(t *testing.T) {
	testutil.LimitedChild(t, func(args []string) int {
		return cli.Status("compare", run(args, os.Stdout, os.Stderr), os.Stderr)
	})
}

// TestFullDisk: whatever the point where the disk fills up, compare fails
// with "file too large" and every file in -out is absent or complete
// (report.md and each chart byte for byte as in a run with room), with no
// temporary file left.
func TestFullDisk(t *testing.T) {
	root, dirs := fixture(t)
	args := func(out string) []string { return append([]string{"-out", out, "-bootstrap", "50"}, dirs...) }
	ref := filepath.Join(root, "ref")
	var stdout, stderr bytes.Buffer
	require.NoError(t, run(args(ref), &stdout, &stderr), stderr.String())
	want := map[string][]byte{}
	var sizes []int
	entries, err := os.ReadDir(ref)
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(ref, e.Name()))
		require.NoError(t, err)
		want[e.Name()] = b
		sizes = append(sizes, len(b))
	}
	require.Len(t, want, 3, "report.md and two charts")
	sort.Ints(sizes)
	for _, limit := range []int{0, 1, sizes[0] - 1, sizes[1] - 1, sizes[2] - 1} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, stderr := testutil.RunLimited(t, int64(limit), args(out)...)
			assert.Equal(t, 1, code, stderr)
			assert.Contains(t, stderr, "file too large")
			entries, err := os.ReadDir(out)
			require.NoError(t, err)
			assert.Less(t, len(entries), 3)
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(out, e.Name()))
				require.NoError(t, err)
				assert.Equal(t, want[e.Name()], b, "%s is complete", e.Name())
			}
		})
	}
}
