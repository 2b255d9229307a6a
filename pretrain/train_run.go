package pretrain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/engine"
)

// prepareOutDir checks o.OutDir before the run writes anything (see
// engine.PrepareOutDir: another run is refused unless Resume, whose
// manifest must match, or OverwriteOutputDir, which moves it aside) and
// writes the run manifest, run.json: in "data" the variant, each stage's
// corpus files (SHA-256), the corpus and masking options and the starting
// model (SHA-256 of its weights, or of config.json and vocab.txt); in
// "training" the hyper-parameters; in "runtime" paths and the settings a
// resumed run may change.
func prepareOutDir(o TrainOptions, stages []BoundStage, files [][]string) error {
	m, err := runManifest(o, stages, files)
	if err != nil {
		return err
	}
	run := []string{"final", ".final.*"}
	if len(stages) > 1 {
		for _, s := range stages {
			run = append(run, s.Name, "."+s.Name+".*")
		}
	}
	_, err = engine.PrepareOutDir(engine.OutDirRequest{Dir: o.OutDir, Name: "pretrain", Manifest: m, RunFiles: run,
		Resume: o.Resume, Overwrite: o.OverwriteOutputDir, Say: func(format string, a ...any) { logf(o.Log, format, a...) }})
	return err
}

// runManifest builds the manifest of a pretraining run.
func runManifest(o TrainOptions, stages []BoundStage, files [][]string) (*engine.Manifest, error) {
	m := engine.NewManifest("pretrain", o.Options.Options)
	d := m.Data
	d["variant"] = o.Variant
	d["corpus_format"], d["corpus_split"] = o.Corpus.Format.String(), o.Corpus.SplitName
	d["block_size"], d["mlm_probability"], d["whole_word_mask"] = o.BlockSize, o.MLMProbability, o.WholeWordMask
	d["line_by_line"], d["validation_fraction"] = o.LineByLine, o.ValidationFraction
	paths := map[string]string{}
	for i, s := range stages {
		var sums []string
		for _, f := range files[i] {
			sum, err := engine.HashFile(f)
			if err != nil {
				return nil, fmt.Errorf("pretrain: stage %s: corpus: %w", s.Name, err)
			}
			paths[f] = sum
			sums = append(sums, sum)
		}
		sort.Strings(sums)
		h := sha256.New()
		for _, x := range sums {
			fmt.Fprintln(h, x)
		}
		d["stage_"+s.Name+"_corpus_sha256"] = hex.EncodeToString(h.Sum(nil))
	}
	m.Runtime["corpus_files"] = paths
	if o.Model != "" {
		if st, err := os.Stat(o.Model); err == nil && st.IsDir() {
			for _, f := range []string{bert.SafetensorsFile, "pytorch_model.bin"} {
				p := filepath.Join(o.Model, f)
				if _, err := os.Stat(p); err != nil {
					continue
				}
				sum, err := engine.HashFile(p)
				if err != nil {
					return nil, fmt.Errorf("pretrain: model: %w", err)
				}
				d["model_sha256"] = sum
				break
			}
			abs, _ := filepath.Abs(o.Model)
			m.Runtime["model_path"] = abs
		} else {
			d["model"] = o.Model
		}
	} else {
		for key, p := range map[string]string{"config_sha256": o.Config, "vocab_sha256": o.Vocab} {
			sum, err := engine.HashFile(p)
			if err != nil {
				return nil, fmt.Errorf("pretrain: %w", err)
			}
			d[key] = sum
		}
	}
	m.Runtime["cache_dir"], m.Runtime["workers"] = o.CacheDir, o.Workers
	return m, nil
}
