package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// ManifestFile is the run manifest in a run's output directory.
const ManifestFile = "run.json"

// ManifestVersion is the format_version of the manifests this package
// writes.
const ManifestVersion = 1

// Manifest is run.json: what defines a run, written when it starts and
// compared when it is resumed. Its sections are flat maps from a field
// name to a JSON value.
type Manifest struct {
	Version int    `json:"format_version"`
	Kind    string `json:"kind"` // "ner", "pretrain"
	// Data is what the run learns from: the corpus files and their
	// SHA-256, the split, the labels, the starting model. A resume that
	// changes any of it is refused.
	Data map[string]any `json:"data"`
	// Training holds the hyper-parameters. A resume that changes any of
	// them is refused too: the resumed run would not be the run its
	// checkpoints and history belong to.
	Training map[string]any `json:"training"`
	// Runtime holds what may change between the parts of a run (device,
	// precision, memory cap, logging and saving): a change is reported.
	Runtime map[string]any `json:"runtime"`
	// Created is when the run started; Resumes lists when it was resumed
	// and from which step.
	Created time.Time      `json:"created"`
	Resumes []ResumeRecord `json:"resumes,omitempty"`
}

// ResumeRecord is one resume of a run.
type ResumeRecord struct {
	Time time.Time `json:"time"`
	// Changed lists the Runtime fields that differ from the run's.
	Changed []string `json:"changed,omitempty"`
}

// NewManifest returns the manifest of a run of kind with options o: the
// engine's knobs go to Training and Runtime; the caller adds its data and
// its own knobs.
func NewManifest(kind string, o Options) *Manifest {
	return &Manifest{
		Version: ManifestVersion, Kind: kind, Data: map[string]any{},
		Training: map[string]any{
			"epochs": o.Epochs, "max_steps": o.MaxSteps, "batch_size": o.BatchSize, "grad_accum": o.GradAccum,
			"lr": o.LR, "warmup_ratio": o.WarmupRatio, "warmup_steps": o.WarmupSteps, "weight_decay": o.WeightDecay,
			"adam_beta1": o.AdamBeta1, "adam_beta2": o.AdamBeta2, "adam_epsilon": o.AdamEpsilon,
			"max_grad_norm": o.MaxGradNorm, "seed": o.Seed, "eval_each_epoch": o.EvalEachEpoch,
		},
		Runtime: map[string]any{
			"device": torchutil.DeviceName(o.Device), "precision": string(o.Precision), "max_memory_gib": o.MaxMemoryGiB,
			"log_steps": o.LogSteps, "save_steps": o.SaveSteps, "save_total_limit": o.SaveTotalLimit,
		},
	}
}

// ReadManifest reads dir's run.json.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if m.Version < 1 || m.Version > ManifestVersion {
		return nil, fmt.Errorf("%s: format_version %d, this build reads 1..%d", path, m.Version, ManifestVersion)
	}
	return &m, nil
}

// write writes m to dir/run.json atomically.
func (m *Manifest) write(dir string) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

// normalize returns the sections of m as JSON would read them back (so
// that a fresh manifest compares equal to one read from disk).
func (m *Manifest) normalize() (data, training, runtime map[string]any, err error) {
	var out [3]map[string]any
	for i, sec := range []map[string]any{m.Data, m.Training, m.Runtime} {
		b, err := json.Marshal(sec)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := json.Unmarshal(b, &out[i]); err != nil {
			return nil, nil, nil, err
		}
	}
	return out[0], out[1], out[2], nil
}

// diff lists the keys of a section whose values differ, as
// "section.key: old → new".
func diff(section string, old, cur map[string]any) []string {
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	var out []string
	for k := range keys {
		a, okA := old[k]
		b, okB := cur[k]
		if okA && okB && reflect.DeepEqual(a, b) {
			continue
		}
		out = append(out, fmt.Sprintf("%s.%s: %s → %s", section, k, show(a, okA), show(b, okB)))
	}
	sort.Strings(out)
	return out
}

func show(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 80 {
		return string(b[:77]) + "..."
	}
	return string(b)
}

// OutDirRequest is what PrepareOutDir checks a run's output directory
// against.
type OutDirRequest struct {
	// Dir is the output directory; Name prefixes errors and messages.
	Dir, Name string
	// Manifest is the run's manifest (NewManifest and the trainer's
	// fields).
	Manifest *Manifest
	// RunFiles are the names (filepath.Match patterns) a run of this kind
	// writes in Dir besides the engine's (checkpoint-*, latest,
	// metrics.jsonl): their presence means Dir holds a run, and
	// OverwriteOutputDir moves them aside.
	RunFiles []string
	// InputFiles are names (patterns) a program writes in Dir for the run
	// before it starts (a split's document lists): they do not make a run,
	// but OverwriteOutputDir moves them aside with the run they belong to.
	InputFiles []string
	// Resume and Overwrite are Options.Resume and
	// Options.OverwriteOutputDir.
	Resume, Overwrite bool
	// Say receives messages (nil: none).
	Say func(format string, a ...any)
}

// engineRunFiles are the names every run writes in its directory besides
// the manifest.
var engineRunFiles = []string{"checkpoint-*", ".checkpoint-*", "latest", MetricsFile}

// PrepareOutDir makes r.Dir ready for a run before anything is written to
// it, and writes the run manifest:
//
//   - a directory without a run (none of the run's files; a run.json
//     alone is a run that never started training) gets the manifest and
//     the run starts;
//   - with Resume, the manifest of the run there must match r.Manifest:
//     a change in Data or Training is refused with an error naming each
//     changed field (old → new), a change in Runtime is reported; the
//     resume is recorded in the manifest. A run written before manifests
//     existed is resumed with a message, and gets one;
//   - with Overwrite, the run's files are moved into a new sibling
//     directory, <Dir>.previous-<time> (nothing is deleted; files that are
//     not the run's stay), which PrepareOutDir returns;
//   - otherwise the directory is refused, naming what is there.
//
// On the ranks other than 0 of a data-parallel run (IsOutDirWriter false)
// it does nothing: rank 0 prepares the directory, and the others' Open
// waits for rank 0 to join the process group, which it does after.
func PrepareOutDir(r OutDirRequest) (movedTo string, err error) {
	say := r.Say
	if say == nil {
		say = func(string, ...any) {}
	}
	if r.Manifest == nil {
		return "", fmt.Errorf("%s: PrepareOutDir: nil manifest", r.Name)
	}
	if !IsOutDirWriter() {
		return "", nil // rank 0 prepares it; Open waits for rank 0
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return "", fmt.Errorf("%s: %w", r.Name, err)
	}
	present, err := runEntries(r.Dir, append(append([]string(nil), engineRunFiles...), r.RunFiles...))
	if err != nil {
		return "", fmt.Errorf("%s: %w", r.Name, err)
	}
	aside, err := runEntries(r.Dir, append(append([]string{ManifestFile}, present...), r.InputFiles...))
	if err != nil {
		return "", fmt.Errorf("%s: %w", r.Name, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	m := *r.Manifest
	m.Version = ManifestVersion
	switch {
	case len(present) == 0:
	case r.Resume:
		old, err := ReadManifest(r.Dir)
		if errors.Is(err, fs.ErrNotExist) {
			say("%s: %s has no %s (a run from an earlier version): resuming without checking that the data and options are the run's\n", r.Name, r.Dir, ManifestFile)
			m.Created = now
			m.Resumes = []ResumeRecord{{Time: now}}
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: resume: %w", r.Name, err)
		}
		changed, err := compareManifests(old, &m)
		if err != nil {
			return "", fmt.Errorf("%s: resume: %w", r.Name, err)
		}
		if len(changed.refused) > 0 {
			return "", fmt.Errorf("%s: cannot resume the run in %s: it was started with other data or options (%s); run with the run's data and options, or start a new run (-overwrite, or another output directory)",
				r.Name, r.Dir, strings.Join(changed.refused, "; "))
		}
		for _, c := range changed.runtime {
			say("%s: resuming with a changed setting: %s\n", r.Name, c)
		}
		m.Created, m.Resumes = old.Created, append(old.Resumes, ResumeRecord{Time: now, Changed: changed.runtime})
		m.Runtime = old.Runtime // the run's settings, as started; the changes are in Resumes
	case r.Overwrite:
		if movedTo, err = moveAside(r.Dir, aside, now); err != nil {
			return "", fmt.Errorf("%s: overwrite: %w", r.Name, err)
		}
		say("%s: moved the previous run in %s to %s\n", r.Name, r.Dir, movedTo)
	default:
		return "", fmt.Errorf("%s: %s already holds a run (%s): resume it (-resume), replace it (-overwrite: the old run is moved aside, nothing is deleted), or choose another output directory",
			r.Name, r.Dir, listNames(present, 6))
	}
	if m.Created.IsZero() {
		m.Created = now
	}
	if err := m.write(r.Dir); err != nil {
		return movedTo, fmt.Errorf("%s: %w", r.Name, err)
	}
	return movedTo, nil
}

type manifestChanges struct {
	refused, runtime []string
}

func compareManifests(old, cur *Manifest) (manifestChanges, error) {
	var c manifestChanges
	if old.Kind != cur.Kind {
		c.refused = append(c.refused, fmt.Sprintf("kind: %q → %q", old.Kind, cur.Kind))
		return c, nil
	}
	od, ot, or, err := old.normalize()
	if err != nil {
		return c, err
	}
	cd, ct, cr, err := cur.normalize()
	if err != nil {
		return c, err
	}
	c.refused = append(diff("data", od, cd), diff("training", ot, ct)...)
	c.runtime = diff("runtime", or, cr)
	return c, nil
}

// runEntries returns the names in dir that match one of patterns, sorted.
func runEntries(dir string, patterns []string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range es {
		for _, p := range patterns {
			if ok, _ := filepath.Match(p, e.Name()); ok {
				out = append(out, e.Name())
				break
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func listNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(", and %d more", len(names)-n)
}

// moveAside renames the entries names of dir into a new sibling directory
// <dir>.previous-<time> and returns it.
func moveAside(dir string, names []string, now time.Time) (string, error) {
	clean := filepath.Clean(dir)
	base := clean + ".previous-" + now.Format("20060102T150405Z")
	aside := base
	for i := 2; ; i++ {
		err := os.Mkdir(aside, 0o755)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(dir, n), filepath.Join(aside, n)); err != nil {
			return aside, fmt.Errorf("move %s aside: %w (the entries moved so far are in %s)", n, err, aside)
		}
	}
	if err := atomicfile.SyncDir(dir); err != nil {
		return aside, err
	}
	return aside, atomicfile.SyncDir(aside)
}

// HashFile returns the hex SHA-256 of the file at path.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SaveModelDir writes the model directory dir atomically: save fills a new
// directory beside it, which replaces dir once complete and synced
// (atomicfile.WriteDir). Files of the old dir that save did not write (a
// user's notes in best/) are carried over into the new one, so that
// replacing a model never deletes a file the trainer did not write.
func SaveModelDir(dir string, save func(tmp string) error) error {
	return atomicfile.WriteDir(dir, func(tmp string) error {
		if err := save(tmp); err != nil {
			return err
		}
		return carryOver(dir, tmp)
	})
}

// carryOver links (or copies) into to every entry of from that to lacks.
func carryOver(from, to string) error {
	es, err := os.ReadDir(from)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range es {
		src, dst := filepath.Join(from, e.Name()), filepath.Join(to, e.Name())
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if err := copyTree(src, dst); err != nil {
			return fmt.Errorf("keep %s: %w", src, err)
		}
	}
	return nil
}

// copyTree hard-links src's regular files to dst (copying them when a
// link is not possible), recreating directories.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if err := os.Link(p, target); err == nil {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

// RemoveModelDir deletes the files of a model directory the trainer
// writes (names), then dir if nothing else is left in it.
func RemoveModelDir(dir string, names []string) error {
	for _, n := range names {
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		if es, rerr := os.ReadDir(dir); rerr == nil && len(es) > 0 {
			return nil // someone else's files: the directory stays
		}
		return err
	}
	return nil
}
