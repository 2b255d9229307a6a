//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
)

// TestLimitedChild is the child process of testutil.RunLimited.
func TestLimitedChild(t *testing.T) {
	testutil.LimitedChild(t, func(args []string) int {
		return run(&env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, args)
	})
}

// readTree returns the regular files under dir, by relative path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	}))
	return out
}

// fullDiskCase runs one command that writes the files names into out under
// each file-size limit in limits, once into an empty directory and once
// over old versions of the files, and checks that it fails with "file too
// large" and leaves the directory exactly as it was: no empty, partial or
// temporary file. It returns the number of cases run.
func fullDiskCase(t *testing.T, limits []int64, names []string, args func(out string) []string) int {
	n := 0
	for _, limit := range limits {
		for _, withOld := range []bool{false, true} {
			t.Run(fmt.Sprintf("limit %d old files %v", limit, withOld), func(t *testing.T) {
				out := t.TempDir()
				before := map[string]string{}
				if withOld {
					for _, name := range names {
						before[name] = "old " + name + "\n"
						require.NoError(t, os.WriteFile(filepath.Join(out, name), []byte(before[name]), 0o644))
					}
				}
				code, _, stderr := testutil.RunLimited(t, limit, args(out)...)
				assert.Equal(t, 1, code, stderr)
				assert.Contains(t, stderr, "file too large")
				assert.Equal(t, before, readTree(t, out), "the directory is as it was")
			})
			n++
		}
	}
	return n
}

// TestFullDiskEvalNER: eval-ner's four reports appear complete or not at
// all when the disk fills up at any point.
func TestFullDiskEvalNER(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	model := testutil.TinyModelDir(t, bert.HeadTokenClassification, []string{"O", "B-Condition", "I-Condition"}, func(c *bert.Config) { c.MaxPositionEmbeddings = 128 })
	data := testutil.NERDir(t, 3)
	args := func(out string) []string {
		return []string{"eval-ner", "-model", model, "-corpus", "clinpt", "-data", data, "-out", out, "-max-len", "64"}
	}
	ref := t.TempDir()
	code, _, stderr := runNERCmd("", args(ref)...)
	require.Equal(t, 0, code, stderr)
	want := readTree(t, ref)
	var names []string
	largest := 0
	for name, b := range want {
		names = append(names, name)
		largest = max(largest, len(b))
	}
	require.Len(t, names, 4)
	n := fullDiskCase(t, []int64{0, 1, 300, int64(largest) - 1}, names, args)

	// With room for the largest file the run completes, as without a limit.
	out := t.TempDir()
	code, _, stderr = testutil.RunLimited(t, int64(largest), args(out)...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, want, readTree(t, out))
	t.Logf("%d full-disk cases, largest report %d bytes", n+1, largest)
}

// TestFullDiskStatsWriteSplit: stats -write-split writes train.txt,
// dev.txt and test.txt together or not at all.
func TestFullDiskStatsWriteSplit(t *testing.T) {
	data := t.TempDir()
	var b strings.Builder
	for d := 0; d < 10; d++ {
		fmt.Fprintf(&b, "-DOCSTART-\tO\n\npaciente\tO\ndor\tB-C\n\n")
	}
	require.NoError(t, os.WriteFile(filepath.Join(data, "c.conll"), []byte(b.String()), 0o644))
	args := func(out string) []string {
		return []string{"stats", "-corpus", "conll", "-data", data, "-split", "0.6,0.2", "-write-split", out}
	}
	ref := t.TempDir()
	var out, errb strings.Builder
	code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, args(ref))
	require.Equal(t, 0, code, errb.String())
	want := readTree(t, ref)
	require.Len(t, want, 3)
	fullDiskCase(t, []int64{0, 5}, []string{"train.txt", "dev.txt", "test.txt"}, args)

	dir := t.TempDir()
	code, _, stderr := testutil.RunLimited(t, 1<<20, args(dir)...)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, want, readTree(t, dir))
}

// TestFullDiskTmpfs fills a real (tmpfs) file system and runs eval-ner into
// it: "no space left on device", and nothing new on the disk. It skips
// where a tmpfs cannot be mounted (it needs root).
func TestFullDiskTmpfs(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	disk := testutil.TmpfsDir(t, 1<<20)
	model := testutil.TinyModelDir(t, bert.HeadTokenClassification, []string{"O", "B-Condition", "I-Condition"}, func(c *bert.Config) { c.MaxPositionEmbeddings = 128 })
	data := testutil.NERDir(t, 3)
	out := filepath.Join(disk, "eval")
	require.NoError(t, os.Mkdir(out, 0o755))
	old := map[string]string{"report.txt": "old report\n", "conlleval.txt": "old conlleval\n"}
	for name, s := range old {
		require.NoError(t, os.WriteFile(filepath.Join(out, name), []byte(s), 0o644))
	}
	left := testutil.FillDisk(t, disk, 4096)
	code, _, stderr := runNERCmd("", "eval-ner", "-model", model, "-corpus", "clinpt", "-data", data, "-out", out, "-max-len", "64")
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stderr, "no space left on device")
	assert.Equal(t, old, readTree(t, out))
	t.Logf("tmpfs with %d bytes left: %s", left, strings.TrimSpace(stderr))

	// Free the disk: the same command now succeeds.
	require.NoError(t, os.Remove(filepath.Join(disk, "filler")))
	code, _, stderr = runNERCmd("", "eval-ner", "-model", model, "-corpus", "clinpt", "-data", data, "-out", out, "-max-len", "64")
	require.Equal(t, 0, code, stderr)
	assert.Len(t, readTree(t, out), 4)
}
