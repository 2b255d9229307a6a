package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/internal/torchsetup"
)

// TestUserModule does what a user does: a new module outside this
// repository that requires this one (through a replace of a local clone),
// the documented setup command, go mod tidy, go build, the program run on a
// tiny model, go vet. It runs offline: GOPROXY=off, with this repository's
// go.sum as the module's starting go.sum and the module cache. The module
// lives in a directory keyed by this checkout's path, so that a second run
// finds gotch compiled in Go's build cache (its cache key holds the
// source directory).
func TestUserModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with go build (-short)")
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(repo))
	mod := filepath.Join(os.TempDir(), "biobertpt-usermodule-"+hex.EncodeToString(sum[:])[:12])
	entries, _ := os.ReadDir(mod)
	for _, e := range entries {
		if e.Name() != ".biobertpt" {
			require.NoError(t, os.RemoveAll(filepath.Join(mod, e.Name())))
		}
	}
	require.NoError(t, os.MkdirAll(mod, 0o755))
	gomod := "module example.com/app\n\ngo 1.26\n\nrequire github.com/biobertpt-go/biobertpt v0.0.0\n\nreplace github.com/biobertpt-go/biobertpt => " + repo + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644))
	gosum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.sum"), gosum, 0o644))
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(mod, "main.go"), src, 0o644))

	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
	run := func(name string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = mod, env
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		t.Logf("%s %s: %s", name, strings.Join(args, " "), time.Since(t0).Round(100*time.Millisecond))
		require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
		return string(out)
	}
	setup := strings.Fields(torchsetup.SetupCommand)
	run(setup[0], append(setup[1:], "-no-apt")...)
	run("go", "mod", "tidy")
	b, err := os.ReadFile(filepath.Join(mod, "go.mod"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "github.com/sugarme/gotch v0.9.1", "setup requires gotch")
	assert.Contains(t, string(b), "replace github.com/sugarme/gotch => ./"+torchsetup.LocalDir)
	assert.NotContains(t, string(b), torchsetup.DefaultCacheDir(), "go.mod names no path of the gotch cache")
	_, err = os.Stat(filepath.Join(mod, "go.work"))
	assert.True(t, os.IsNotExist(err), "no go.work")
	run("go", "build", "-o", "app", ".")
	run("go", "vet", "./...")

	model := testutil.TinyModelDir(t, bert.HeadTokenClassification, []string{"O", "B-Disorder", "I-Disorder"}, nil)
	cmd := exec.Command(filepath.Join(mod, "app"), "-model", model, "Paciente com dor torácica há 2 dias.")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "app:\n%s%s", out, stderr.String())
	assert.Contains(t, stderr.String(), "windows of 64 sub-tokens", "MaxLen capped to the tiny model's max_position_embeddings")
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" {
			assert.Len(t, strings.Split(line, "\t"), 5, "type, text, start, end, score: %q", line)
		}
	}

	cmd = exec.Command(filepath.Join(mod, "app"), "-model", filepath.Join(t.TempDir(), "missing"), "x")
	out, err = cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "model not found")
}

// TestREADMESnippet keeps the README's Go snippet the run function of this
// program, word for word, so that the snippet compiles and is tested.
func TestREADMESnippet(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	i := strings.Index(string(src), "func run(")
	require.GreaterOrEqual(t, i, 0)
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```go\n"+string(src[i:])+"```\n", "README's snippet differs from examples/usermodule's run")
}
