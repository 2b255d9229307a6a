// Package docs holds the project's documents and the test that keeps
// ARCHITECTURE.md's import rules true.
package docs

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/biobertpt-go/biobertpt"

// The layers of ARCHITECTURE.md, lowest first.
const (
	plumbing = "plumbing" // internal/*: torch helpers, files, Hub, optimizer, processes
	base     = "base"     // tokenize, metrics, bert
	engine   = "engine"   // internal/engine: the training loop both trainers share
	trainers = "trainers" // pretrain, ner
	serve    = "serve"    // ner/serve
	cli      = "cli"      // examples/internal/*: flag binding, bench, test helpers
	program  = "program"  // examples/*: the commands and example programs
)

// layer places a package (path relative to the module) in a layer; "" for a
// package ARCHITECTURE.md does not place.
func layer(p string) string {
	switch {
	case p == "internal/engine":
		return engine
	case strings.HasPrefix(p, "internal/"):
		return plumbing
	case p == "tokenize" || p == "metrics" || p == "bert":
		return base
	case p == "pretrain" || p == "ner":
		return trainers
	case p == "ner/serve":
		return serve
	case strings.HasPrefix(p, "examples/internal/"):
		return cli
	case strings.HasPrefix(p, "examples/"):
		return program
	}
	return ""
}

// mayImport reports whether package from may import package to (both in
// the module, paths relative to it), ARCHITECTURE.md's table.
func mayImport(from, to string) bool {
	lf, lt := layer(from), layer(to)
	switch lf {
	case plumbing:
		return lt == plumbing
	case base:
		return lt == plumbing
	case engine:
		return lt == plumbing || to == "bert"
	case trainers:
		if from == "pretrain" && to == "metrics" {
			return false
		}
		return lt == plumbing || lt == engine || lt == base
	case serve:
		return lt == plumbing || lt == base || to == "ner"
	case cli:
		return lt != program && lt != ""
	case program:
		return lt != program && lt != ""
	}
	return false
}

// mayTestImport reports whether the tests of package from may import
// package to: what from may import, and any library package besides (an
// integration test of plumbing may build a model), but never the
// command-line layer or a program.
func mayTestImport(from, to string) bool {
	lt := layer(to)
	return mayImport(from, to) || (lt != cli && lt != program && lt != "")
}

type listedPackage struct {
	ImportPath   string
	Name         string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

// TestImportRules checks every package's imports, its tests' included,
// against ARCHITECTURE.md: no package imports a layer above its own, the
// command-line layer lives under examples/, and internal/ holds no program.
func TestImportRules(t *testing.T) {
	rel := func(p string) (string, bool) {
		if p == module {
			return "", true
		}
		return strings.CutPrefix(p, module+"/")
	}
	for _, p := range listPackages(t) {
		from, _ := rel(p.ImportPath)
		if from == "docs" {
			continue
		}
		if layer(from) == "" {
			t.Errorf("%s: not placed in a layer of ARCHITECTURE.md", from)
			continue
		}
		if p.Name == "main" && !strings.HasPrefix(from, "examples/") {
			t.Errorf("%s: a program outside examples/", from)
		}
		check := func(imports []string, may func(from, to string) bool, what string) {
			var bad []string
			for _, imp := range imports {
				to, ok := rel(imp)
				if ok && to != from && !may(from, to) && !slices.Contains(bad, to) {
					bad = append(bad, to)
				}
			}
			for _, to := range bad {
				t.Errorf("%s (%s) %s %s (%s)", from, layer(from), what, to, layer(to))
			}
		}
		check(p.Imports, mayImport, "imports")
		check(slices.Concat(p.TestImports, p.XTestImports), mayTestImport, "tests import")
	}
}

// TestLayerRules pins the table itself, so that a loosened rule shows in
// review.
func TestLayerRules(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"internal/tensors", "internal/torchutil", true},
		{"internal/hub", "bert", false},
		{"internal/bench", "bert", false},
		{"bert", "internal/optim", true},
		{"bert", "tokenize", false},
		{"tokenize", "bert", false},
		{"internal/engine", "bert", true},
		{"internal/engine", "ner", false},
		{"ner", "internal/engine", true},
		{"ner", "pretrain", false},
		{"pretrain", "ner", false},
		{"ner", "examples/internal/testutil", false},
		{"ner/serve", "ner", true},
		{"examples/internal/cli", "ner", true},
		{"examples/biobertpt", "examples/internal/cli", true},
		{"examples/biobertpt", "examples/pretrain", false},
		{"somewhere", "bert", false},
	} {
		if got := mayImport(tc.from, tc.to); got != tc.ok {
			t.Errorf("mayImport(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
	assert := func(from, to string, ok bool) {
		if got := mayTestImport(from, to); got != ok {
			t.Errorf("mayTestImport(%s, %s) = %v, want %v", from, to, got, ok)
		}
	}
	assert("internal/dist", "bert", true)
	assert("ner", "examples/internal/testutil", false)
	assert("ner/serve", "examples/biobertpt", false)
}
