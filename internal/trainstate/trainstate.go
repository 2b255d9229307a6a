package trainstate

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/safetensors"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// FormatVersion is the version of trainer_state.json this package writes.
const FormatVersion = 1

// File names inside a checkpoint directory and in the output directory.
const (
	StateFile     = "trainer_state.json"
	OptimizerFile = "optimizer.safetensors"
	LatestFile    = "latest"
	dirPrefix     = "checkpoint-"
)

// State is trainer_state.json: everything besides the model and optimizer
// tensors that a resumed run needs to continue on the same loss curve.
type State struct {
	Version int   `json:"format_version"` // FormatVersion; set by Save
	Step    int64 `json:"global_step"`    // optimizer updates done
	// Epoch is the (fractional) number of epochs done, as HF's
	// trainer_state.json "epoch".
	Epoch float64 `json:"epoch"`
	// DataPosition is the caller's position in its data stream (opaque).
	DataPosition json.RawMessage `json:"data_position,omitempty"`
	// RNG is the caller's serialized RNG state (base64 in the JSON).
	RNG []byte `json:"rng_state,omitempty"`
	// BestScore is the best evaluation score so far (nil: none yet), reached
	// at BestStep.
	BestScore *float64 `json:"best_metric,omitempty"`
	BestStep  int64    `json:"best_global_step,omitempty"`
	// Options are the caller's training options (opaque).
	Options json.RawMessage `json:"options,omitempty"`
	Seed    int64           `json:"seed"`
	// OptimizerSteps is AdamW.Steps() at save time (set by Save).
	OptimizerSteps int64 `json:"optimizer_steps"`
	// Saved is the wall-clock time of the save (set by Save).
	Saved time.Time `json:"saved"`
	// Files lists every other file of the checkpoint with its size (set by
	// Save); Validate checks them.
	Files map[string]int64 `json:"files"`
	// SHA256 is the hex SHA-256 of every file of Files (set by Save);
	// Validate checks them. Checkpoints written before checksums were
	// recorded have none and are checked by size only.
	SHA256 map[string]string `json:"sha256,omitempty"`
}

// DirName is the checkpoint directory name for a step: "checkpoint-<step>",
// as HF Trainer names them.
func DirName(step int64) string { return dirPrefix + strconv.FormatInt(step, 10) }

// Save writes outDir/checkpoint-<s.Step>/ atomically (built under a
// temporary name, synced, renamed into place; an existing checkpoint of the
// same step is replaced only once the new one is complete), then the
// outDir/latest pointer. The directory holds what saveModel writes into the
// directory it is given (config.json and model.safetensors for a bert
// model), optimizer.safetensors (opt's state; skipped when opt is nil) and
// trainer_state.json, written last. s.Version, s.OptimizerSteps, s.Saved and
// s.Files are filled in. It returns nothing but the error; the checkpoint's
// path is filepath.Join(outDir, DirName(s.Step)).
func Save(outDir string, s *State, saveModel func(dir string) error, opt *optim.AdamW) error {
	if s == nil {
		return errors.New("trainstate: Save: nil state")
	}
	if s.Step < 0 {
		return fmt.Errorf("trainstate: Save: negative step %d", s.Step)
	}
	for _, raw := range []json.RawMessage{s.DataPosition, s.Options} {
		if len(raw) > 0 && !json.Valid(raw) {
			return errors.New("trainstate: Save: DataPosition/Options are not valid JSON")
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("trainstate: Save: %w", err)
	}
	name := DirName(s.Step)
	dir := filepath.Join(outDir, name)
	err := atomicfile.WriteDir(dir, func(tmp string) error {
		if saveModel != nil {
			if err := saveModel(tmp); err != nil {
				return fmt.Errorf("save model: %w", err)
			}
		}
		s.OptimizerSteps = 0
		if opt != nil {
			steps, err := writeOptimizer(filepath.Join(tmp, OptimizerFile), opt)
			if err != nil {
				return err
			}
			s.OptimizerSteps = steps
		}
		files, sums, err := manifest(tmp)
		if err != nil {
			return err
		}
		s.Version = FormatVersion
		s.Files, s.SHA256 = files, sums
		s.Saved = time.Now().UTC()
		return atomicfile.WriteFile(filepath.Join(tmp, StateFile), func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(s)
		})
	})
	if err != nil {
		return fmt.Errorf("trainstate: save %s: %w", dir, err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(outDir, LatestFile), []byte(name+"\n")); err != nil {
		return fmt.Errorf("trainstate: save %s: %w", dir, err)
	}
	return nil
}

// writeOptimizer writes opt's StateDict as safetensors; the step count goes
// into the metadata ("steps").
func writeOptimizer(path string, opt *optim.AdamW) (steps int64, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	state, steps, err := opt.StateDict()
	if err != nil {
		return 0, err
	}
	defer func() {
		for _, t := range state {
			t.MustDrop()
		}
	}()
	out := make(map[string]safetensors.Tensor, len(state))
	for k, t := range state {
		st, err := tensors.ToSafetensors(t)
		if err != nil {
			return 0, fmt.Errorf("optimizer state %q: %w", k, err)
		}
		out[k] = st
	}
	meta := map[string]string{"format": "pt", "optimizer": "adamw", "steps": strconv.FormatInt(steps, 10)}
	if err := safetensors.WriteFile(path, out, meta); err != nil {
		return 0, err
	}
	return steps, nil
}

// manifest lists the regular files under dir (slash paths) with their
// sizes and SHA-256.
func manifest(dir string) (map[string]int64, map[string]string, error) {
	files, sums := map[string]int64{}, map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if atomicfile.IsTemp(d.Name()) {
			return fmt.Errorf("temporary file %s left in checkpoint", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		n, sum, err := hashFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)], sums[filepath.ToSlash(rel)] = n, sum
		return nil
	})
	return files, sums, err
}

// hashFile returns the size and hex SHA-256 of the file at p.
func hashFile(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", p, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// Load validates the checkpoint directory dir, checksums included
// (VerifyChecksums), and returns its state.
func Load(dir string) (*State, error) {
	s, err := Validate(dir)
	if err != nil {
		return nil, err
	}
	if err := VerifyChecksums(dir, s); err != nil {
		return nil, err
	}
	return s, nil
}

// VerifyChecksums reads every file s.SHA256 lists in dir and compares its
// SHA-256 with the recorded one. A state without checksums (written
// before they were recorded) passes.
func VerifyChecksums(dir string, s *State) error {
	names := make([]string, 0, len(s.SHA256))
	for n := range s.SHA256 {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		_, sum, err := hashFile(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil {
			return fmt.Errorf("trainstate: checkpoint %s: %w", dir, err)
		}
		if sum != s.SHA256[n] {
			return fmt.Errorf("trainstate: checkpoint %s: %s has SHA-256 %s, trainer_state.json recorded %s (the file changed after it was written)", dir, n, sum, s.SHA256[n])
		}
	}
	return nil
}

// Validate checks that dir is a complete checkpoint without reading the
// tensors: trainer_state.json parses with a known format version and its
// step matches the directory name, every file it lists exists with the
// recorded size (and has a checksum when checksums are recorded), JSON
// files parse and safetensors files have a readable header covering the
// file. Load also verifies the checksums.
func Validate(dir string) (*State, error) {
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, fmt.Errorf("trainstate: %w", err)
	}
	var s State
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("trainstate: %s: %w", filepath.Join(dir, StateFile), err)
	}
	if s.Version < 1 || s.Version > FormatVersion {
		return nil, fmt.Errorf("trainstate: %s: format_version %d, this build reads 1..%d", filepath.Join(dir, StateFile), s.Version, FormatVersion)
	}
	if base := filepath.Base(dir); strings.HasPrefix(base, dirPrefix) && base != DirName(s.Step) {
		return nil, fmt.Errorf("trainstate: %s: global_step %d does not match the directory name", filepath.Join(dir, StateFile), s.Step)
	}
	if len(s.Files) == 0 {
		return nil, fmt.Errorf("trainstate: %s: no file list", filepath.Join(dir, StateFile))
	}
	names := make([]string, 0, len(s.Files))
	for n := range s.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("trainstate: checkpoint %s: %w", dir, err)
		}
		if info.Size() != s.Files[n] {
			return nil, fmt.Errorf("trainstate: checkpoint %s: %s has %d bytes, trainer_state.json recorded %d", dir, n, info.Size(), s.Files[n])
		}
		if _, ok := s.SHA256[n]; len(s.SHA256) > 0 && !ok {
			return nil, fmt.Errorf("trainstate: checkpoint %s: no SHA-256 recorded for %s", dir, n)
		}
		switch {
		case strings.HasSuffix(n, ".json"):
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("trainstate: checkpoint %s: %w", dir, err)
			}
			if !json.Valid(b) {
				return nil, fmt.Errorf("trainstate: checkpoint %s: %s is not valid JSON", dir, n)
			}
		case strings.HasSuffix(n, ".safetensors"):
			if err := checkSafetensorsHeader(p); err != nil {
				return nil, fmt.Errorf("trainstate: checkpoint %s: %w", dir, err)
			}
		}
	}
	return &s, nil
}

// checkSafetensorsHeader reads only the header of a safetensors file and
// checks that its entries' offsets end exactly at the end of the file.
func checkSafetensorsHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return fmt.Errorf("%s: header length: %w", path, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > 100<<20 || int64(n) > info.Size()-8 {
		return fmt.Errorf("%s: header length %d does not fit the file (%d bytes)", path, n, info.Size())
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &entries); err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	var end int64
	for k, raw := range entries {
		if k == "__metadata__" {
			continue
		}
		var e struct {
			Offsets [2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("%s: header entry %q: %w", path, k, err)
		}
		end = max(end, e.Offsets[1])
	}
	if want := 8 + int64(n) + end; want != info.Size() {
		return fmt.Errorf("%s: header describes %d bytes, file has %d", path, want, info.Size())
	}
	return nil
}

// LoadOptimizer restores opt's state from dir/optimizer.safetensors.
func LoadOptimizer(dir string, opt *optim.AdamW) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	path := filepath.Join(dir, OptimizerFile)
	sts, meta, err := safetensors.ReadFile(path)
	if err != nil {
		return fmt.Errorf("trainstate: load optimizer: %w", err)
	}
	steps, err := strconv.ParseInt(meta["steps"], 10, 64)
	if err != nil {
		return fmt.Errorf("trainstate: load optimizer %s: metadata \"steps\": %w", path, err)
	}
	dev := gotch.CPU
	if ps := opt.Params(); len(ps) > 0 {
		if d, err := ps[0].Tensor.Device(); err == nil {
			dev = d
		}
	}
	state := make(map[string]*ts.Tensor, len(sts))
	defer func() {
		for _, t := range state {
			t.MustDrop()
		}
	}()
	for k, st := range sts {
		if len(st.Shape) == 0 { // scalars: same bytes as shape [1]
			st.Shape = []int64{1}
		}
		t, err := tensors.FromSafetensors(st, dev)
		if err != nil {
			return fmt.Errorf("trainstate: load optimizer %s: %q: %w", path, k, err)
		}
		state[k] = t
	}
	if err := opt.LoadStateDict(state, steps); err != nil {
		return fmt.Errorf("trainstate: load optimizer %s: %w", path, err)
	}
	return nil
}

// Checkpoint is one checkpoint directory found in an output directory.
type Checkpoint struct {
	Dir  string
	Step int64
}

// List returns the checkpoint-<N> directories of outDir, newest (highest
// step) first, without validating them. Temporary directories of an
// interrupted Save are not listed.
func List(outDir string) ([]Checkpoint, error) {
	es, err := os.ReadDir(outDir)
	if err != nil {
		return nil, fmt.Errorf("trainstate: %w", err)
	}
	var cs []Checkpoint
	for _, e := range es {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(e.Name(), dirPrefix), 10, 64)
		if err != nil || n < 0 || DirName(n) != e.Name() {
			continue
		}
		cs = append(cs, Checkpoint{Dir: filepath.Join(outDir, e.Name()), Step: n})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Step > cs[j].Step })
	return cs, nil
}

// Latest returns the newest checkpoint of outDir that loads (Load: sizes,
// headers and checksums). It first repairs an interrupted replacement
// (Recover), then tries the checkpoints highest step first, so that a corrupt or half-written newest
// checkpoint is skipped in favour of the previous good one. The "latest"
// pointer file is not trusted for this (a crash between the directory
// rename and the pointer write leaves a complete checkpoint newer than the
// pointer); it is there for people and scripts. When none validates the
// error lists why each was rejected; with no checkpoint at all it wraps
// fs.ErrNotExist.
func Latest(outDir string) (string, error) {
	if err := Recover(outDir); err != nil {
		return "", err
	}
	cs, err := List(outDir)
	if err != nil {
		return "", err
	}
	if len(cs) == 0 {
		return "", fmt.Errorf("trainstate: no checkpoint in %s: %w", outDir, fs.ErrNotExist)
	}
	var problems []string
	for _, c := range cs {
		if _, err := Load(c.Dir); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		return c.Dir, nil
	}
	return "", fmt.Errorf("trainstate: no valid checkpoint in %s: %s", outDir, strings.Join(problems, "; "))
}

// Recover restores checkpoint directories an interrupted Save moved aside
// and removes temporary build directories (atomicfile.RecoverDir). A
// missing outDir wraps fs.ErrNotExist.
func Recover(outDir string) error {
	es, err := os.ReadDir(outDir)
	if err != nil {
		return fmt.Errorf("trainstate: %w", err)
	}
	seen := map[string]bool{}
	for _, e := range es {
		n := e.Name()
		if !strings.HasPrefix(n, "."+dirPrefix) || !atomicfile.IsTemp(n) {
			continue
		}
		base := strings.TrimPrefix(n, ".")
		if i := strings.Index(base, ".tmp-"); i >= 0 {
			base = base[:i]
		} else if i := strings.Index(base, ".old-"); i >= 0 {
			base = base[:i]
		}
		if seen[base] {
			continue
		}
		seen[base] = true
		if _, err := atomicfile.RecoverDir(filepath.Join(outDir, base)); err != nil {
			return fmt.Errorf("trainstate: %w", err)
		}
	}
	return nil
}

// Rotate deletes the oldest checkpoints of outDir so that at most keep
// remain, never deleting the best one (checkpoint-<BestStep> of the newest
// checkpoint that validates) nor the newest; keep <= 0 keeps everything
// (HF's save_total_limit=None). The best checkpoint does not count toward
// keep, so up to keep+1 directories remain. Only the files a checkpoint's
// trainer_state.json lists (or, when it cannot be read, the file names
// checkpoints hold) are deleted, then the directory if it is empty: a
// file someone else put there survives. It returns the directories
// removed.
func Rotate(outDir string, keep int) ([]string, error) {
	if keep <= 0 {
		return nil, nil
	}
	cs, err := List(outDir)
	if err != nil {
		return nil, err
	}
	best := ""
	for _, c := range cs {
		if s, err := Validate(c.Dir); err == nil {
			if s.BestScore != nil {
				best = filepath.Join(outDir, DirName(s.BestStep))
			}
			break
		}
	}
	var removed []string
	kept := 0
	for _, c := range cs {
		if c.Dir == best {
			continue
		}
		if kept < keep {
			kept++
			continue
		}
		if err := removeCheckpoint(c.Dir); err != nil {
			return removed, fmt.Errorf("trainstate: rotate: %w", err)
		}
		removed = append(removed, c.Dir)
	}
	return removed, nil
}

// checkpointFiles are the names a checkpoint holds, removed from a
// checkpoint whose trainer_state.json cannot be read.
var checkpointFiles = []string{StateFile, OptimizerFile, "config.json", "model.safetensors", "pytorch_model.bin",
	"vocab.txt", "tokenizer_config.json", "tokenizer.json", "special_tokens_map.json"}

// removeCheckpoint deletes the checkpoint files of dir, then dir and its
// subdirectories when they are empty.
func removeCheckpoint(dir string) error {
	names := checkpointFiles
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	var s State
	if err == nil && json.Unmarshal(raw, &s) == nil && len(s.Files) > 0 {
		names = []string{StateFile}
		for n := range s.Files {
			names = append(names, filepath.FromSlash(n))
		}
	}
	// trainer_state.json goes first: a half-removed checkpoint is then
	// invalid, never mistaken for a complete one.
	for _, n := range names {
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i]) // fails, and keeps it, when not empty
	}
	return nil
}
