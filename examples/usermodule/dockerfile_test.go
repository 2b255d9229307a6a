package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dockerStep is one instruction of a Dockerfile, continuation lines joined.
type dockerStep struct {
	stage int // 0-based, counted by FROM
	op    string
	args  string
}

func parseDockerfile(t *testing.T, path string) []dockerStep {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var steps []dockerStep
	stage := -1
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		op, args, _ := strings.Cut(cur, " ")
		op = strings.ToUpper(op)
		require.Contains(t, []string{"FROM", "RUN", "COPY", "WORKDIR", "USER", "ENTRYPOINT", "CMD", "ENV"}, op, "instruction %q", cur)
		if op == "FROM" {
			stage++
		}
		steps = append(steps, dockerStep{stage, op, strings.Join(strings.Fields(args), " ")})
		cur = ""
	}
	require.Empty(t, cur, "a continued line at the end")
	return steps
}

// TestDockerfile parses the Dockerfile and dry-runs what can run without a
// container engine: the build stage runs the documented setup and builds
// the biobertpt command (go build -n), both stages are Debian, the Debian
// packages exist (when apt-cache is there), the runtime stage copies what
// the build stage wrote and runs biobertpt predict.
func TestDockerfile(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	steps := parseDockerfile(t, filepath.Join(repo, "Dockerfile"))
	var froms []string
	var outputs []string
	var setup, build, entry bool
	for _, s := range steps {
		switch s.op {
		case "FROM":
			froms = append(froms, s.args)
		case "RUN":
			for _, cmd := range strings.Split(s.args, "&&") {
				f := strings.Fields(cmd)
				switch {
				case len(f) >= 3 && f[0] == "go" && f[1] == "run":
					require.Equal(t, 0, s.stage, "setup runs in the build stage")
					assert.Equal(t, "./examples/setup", f[2])
					out, err := exec.Command("go", "list", "-C", repo, f[2]).CombinedOutput()
					require.NoError(t, err, "%s", out)
					setup = true
				case len(f) >= 3 && f[0] == "go" && f[1] == "build":
					require.True(t, setup, "go build after setup")
					args := append([]string{"build", "-C", repo, "-n"}, f[2:]...)
					out, err := exec.Command("go", args...).CombinedOutput()
					require.NoError(t, err, "go build -n: %s", out)
					for i, a := range f {
						if a == "-o" && i+1 < len(f) {
							outputs = append(outputs, f[i+1])
						}
					}
					build = true
				case len(f) >= 2 && f[0] == "apt-get" && f[1] == "install":
					if _, err := exec.LookPath("apt-cache"); err != nil {
						continue
					}
					for _, p := range f[2:] {
						if !strings.HasPrefix(p, "-") {
							out, err := exec.Command("apt-cache", "show", "--no-all-versions", p).CombinedOutput()
							assert.NoError(t, err, "Debian package %s: %s", p, out)
						}
					}
				}
			}
		case "COPY":
			if strings.HasPrefix(s.args, "--from=build ") {
				src := strings.Fields(s.args)[1]
				assert.Contains(t, outputs, src, "the runtime stage copies what the build stage built")
			}
		case "ENTRYPOINT":
			assert.Contains(t, s.args, `"predict"`)
			entry = true
		}
	}
	require.Len(t, froms, 2, "multi-stage: build and runtime")
	assert.Contains(t, froms[0], "bookworm")
	assert.Contains(t, froms[1], "debian:bookworm")
	assert.True(t, setup && build && entry, "setup %v, build %v, entrypoint %v", setup, build, entry)
}
