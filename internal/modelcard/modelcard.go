// Package modelcard writes the README.md model card that the HuggingFace
// Hub shows on a model's page: YAML front matter (the card metadata,
// https://huggingface.co/docs/hub/model-cards#model-card-metadata, with
// the model-index of evaluation results that the Hub renders as a table
// and on leaderboards) and a Markdown body.
package modelcard

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
)

// FileName is the model card's name in a model directory.
const FileName = "README.md"

// Module is this library's module path (the card's library credit).
const Module = "github.com/biobertpt-go/biobertpt"

// Metadata is the card's YAML front matter, with the Hub's field names.
type Metadata struct {
	Language    []string     `yaml:"language"`
	License     string       `yaml:"license"`
	LibraryName string       `yaml:"library_name"`
	PipelineTag string       `yaml:"pipeline_tag,omitempty"`
	Tags        []string     `yaml:"tags,omitempty"`
	Datasets    []string     `yaml:"datasets,omitempty"`
	BaseModel   string       `yaml:"base_model,omitempty"`
	Metrics     []string     `yaml:"metrics,omitempty"`
	ModelIndex  []ModelIndex `yaml:"model-index,omitempty"`
}

// ModelIndex is one model's evaluation results.
type ModelIndex struct {
	Name    string   `yaml:"name"`
	Results []Result `yaml:"results"`
}

// Result is the scores of one task on one dataset split.
type Result struct {
	Task    Task     `yaml:"task"`
	Dataset Dataset  `yaml:"dataset"`
	Metrics []Metric `yaml:"metrics"`
}

// Task is a result's task: type "token-classification" (NER) or
// "fill-mask" (masked LM).
type Task struct {
	Type string `yaml:"type"`
	Name string `yaml:"name,omitempty"`
}

// Dataset names the evaluation data.
type Dataset struct {
	Name  string `yaml:"name"`
	Type  string `yaml:"type"`
	Split string `yaml:"split,omitempty"`
}

// Metric is one score.
type Metric struct {
	Type  string  `yaml:"type"`
	Value float64 `yaml:"value"`
	Name  string  `yaml:"name,omitempty"`
}

// Card is a model card: front matter and Markdown body.
type Card struct {
	Meta Metadata
	Body string
}

// Markdown renders the card: "---", the YAML front matter, "---", the
// body.
func (c Card) Markdown() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("---\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c.Meta); err != nil {
		return nil, fmt.Errorf("modelcard: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("modelcard: %w", err)
	}
	b.WriteString("---\n\n")
	b.WriteString(c.Body)
	return b.Bytes(), nil
}

// Write writes the card to dir/README.md atomically (temp file, rename).
func Write(dir string, c Card) error {
	b, err := c.Markdown()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, FileName), b); err != nil {
		return fmt.Errorf("modelcard: %w", err)
	}
	return nil
}

// Parse splits a card into its front matter and body; the front matter
// must be a YAML mapping between two "---" lines at the top of the file.
func Parse(b []byte) (Metadata, string, error) {
	s := string(b)
	rest, ok := strings.CutPrefix(s, "---\n")
	if !ok {
		return Metadata{}, "", errors.New("modelcard: no front matter (the file does not start with ---)")
	}
	front, body, ok := strings.Cut(rest, "\n---\n")
	if !ok {
		return Metadata{}, "", errors.New("modelcard: the front matter is not closed by ---")
	}
	var m Metadata
	dec := yaml.NewDecoder(strings.NewReader(front))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return Metadata{}, "", fmt.Errorf("modelcard: front matter: %w", err)
	}
	return m, strings.TrimPrefix(body, "\n"), nil
}

// Software describes the program that trained the model: this library's
// version (module version, else the VCS revision of the build), Go's
// version and the libtorch version given.
func Software(libtorch string) string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == Module && bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, d := range bi.Deps {
			if d.Path == Module {
				v = d.Version
			}
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && v == "(devel)" {
				v = "(devel) " + s.Value
			}
		}
	}
	return fmt.Sprintf("%s %s, %s, libtorch %s", Module, v, runtime.Version(), libtorch)
}

// Hardware describes the machine: the CPU model (Linux /proc/cpuinfo),
// logical CPUs, OS/architecture and the device used.
func Hardware(device string) string {
	cpu := ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v) + ", "
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%s%d logical CPUs, %s/%s; device %s", cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, device)
}

// ParamsTable renders a run manifest section (name → JSON value) as a
// Markdown table of parameters and their JSON values, sorted by name.
func ParamsTable(params map[string]any) string {
	var b strings.Builder
	b.WriteString("| parameter | value |\n|---|---|\n")
	for _, k := range SortedKeys(params) {
		fmt.Fprintf(&b, "| %s | %s |\n", k, JSONValue(params[k]))
	}
	return b.String()
}

// FileList renders files (path → SHA-256) as a Markdown list sorted by
// path, at most max entries and a line counting the rest.
func FileList(files map[string]any, max int) string {
	var b strings.Builder
	for i, p := range SortedKeys(files) {
		if i == max {
			fmt.Fprintf(&b, "- … and %d more (all in the run's `run.json`)\n", len(files)-max)
			break
		}
		fmt.Fprintf(&b, "- `%s` `%v`\n", p, files[p])
	}
	return b.String()
}

// SortedKeys returns m's keys in sorted order.
func SortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// JSONValue renders a manifest value as its JSON, in backquotes.
func JSONValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return "`" + string(b) + "`"
}
