package ner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/engine"
)

// ManifestFileName is the run manifest Train writes in OutDir (see
// PrepareOutDir).
const ManifestFileName = engine.ManifestFile

// runFiles are the names a NER run writes in OutDir besides the engine's
// (checkpoint-*, latest, metrics.jsonl, run.json).
var runFiles = []string{BestDirName, ".best.*", "epoch-*", ".epoch-*", "test_*", ".test_*", "results.json", "groups"}

// inputFiles are the names programs write in OutDir for a run before it
// starts: the split's document lists.
var inputFiles = []string{"train.txt", "dev.txt", "test.txt", "split"}

// modelFiles are the files of a model directory Train writes (best/,
// epoch-N/): the model's and the tokenizer's.
var modelFiles = []string{"config.json", bert.SafetensorsFile, "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json", ModelConfigFile, CRFFile}

// PrepareOutDir checks o.OutDir for a Train call with the same arguments
// before anything is written to it, and writes the run manifest
// (ManifestFileName). Train calls it first; a program that writes files of
// its own into OutDir for the run (the split's document lists) calls it
// before those.
//
// The manifest records what defines the run: in "data" the starting model
// (the SHA-256 of its weights when it is a directory), the labels and
// scheme, the SHA-256 of the corpus files the documents came from
// (Document.Source), the split's seed and fractions (Split) and, per part,
// its document IDs' and contents' SHA-256; in "training" every
// hyper-parameter; in "runtime" the device, precision, paths and the
// settings a resumed run may change.
//
// A directory that holds another run (a checkpoint, best/, metrics.jsonl,
// a test report, …) is refused unless o.Resume (the manifests must agree
// on data and training: a change is refused naming each field, a runtime
// change is reported on o.Log) or o.OverwriteOutputDir (the old run's
// files are moved into a sibling directory <OutDir>.previous-<time>;
// nothing is deleted).
func PrepareOutDir(modelDirOrName string, split Split, o TrainOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	m, err := runManifest(modelDirOrName, split, o)
	if err != nil {
		return err
	}
	_, err = engine.PrepareOutDir(engine.OutDirRequest{Dir: o.OutDir, Name: "ner: train", Manifest: m,
		RunFiles: runFiles, InputFiles: inputFiles, Resume: o.Resume, Overwrite: o.OverwriteOutputDir,
		Say: func(format string, a ...any) { logf(o.Log, format, a...) }})
	return err
}

func logf(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format, a...)
	}
}

// runManifest builds the run manifest of a Train call.
func runManifest(model string, split Split, o TrainOptions) (*engine.Manifest, error) {
	m := engine.NewManifest("ner", o.Options)
	d := m.Data
	labels := Labels(split.Train, o.Scheme)
	d["labels"], d["scheme"] = labels, o.Scheme.String()
	if st, err := os.Stat(model); err == nil && st.IsDir() {
		for _, f := range []string{bert.SafetensorsFile, "pytorch_model.bin"} {
			p := filepath.Join(model, f)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			sum, err := engine.HashFile(p)
			if err != nil {
				return nil, fmt.Errorf("ner: train: model: %w", err)
			}
			d["model_sha256"] = sum
			break
		}
		abs, _ := filepath.Abs(model)
		m.Runtime["model_path"] = abs
	} else if isConfigFile(model) {
		sum, err := engine.HashFile(model)
		if err != nil {
			return nil, fmt.Errorf("ner: train: model config: %w", err)
		}
		d["model_config_sha256"] = sum
		abs, _ := filepath.Abs(model)
		m.Runtime["model_config_path"] = abs
	} else {
		d["model"] = model
	}
	files, all, err := corpusFiles(split)
	if err != nil {
		return nil, err
	}
	if len(files) > 0 {
		d["corpus_sha256"] = all
		m.Runtime["corpus_files"] = files
	}
	if split.TrainFraction > 0 {
		d["split_seed"], d["split_train_fraction"], d["split_dev_fraction"] = split.Seed, split.TrainFraction, split.DevFraction
	}
	for _, part := range []struct {
		name string
		c    *Corpus
	}{{"train", split.Train}, {"dev", split.Dev}, {"test", split.Test}} {
		d["split_"+part.name] = partDigest(part.c)
	}
	if err := filesManifest(split, d, m.Runtime); err != nil {
		return nil, err
	}
	t := m.Training
	t["max_len"], t["stride"], t["label_all"], t["balance_classes"] = o.MaxLen, o.Stride, o.LabelAll, o.BalanceClasses
	t["class_weights"], t["early_stopping"] = o.ClassWeights, o.EarlyStopping
	if o.CRF {
		t["crf"] = true
	}
	r := m.Runtime
	r["eval_batch_size"], r["cuda_graph"], r["save_epoch_models"] = o.EvalBatchSize, o.CUDAGraph, o.SaveEpochModels
	return m, nil
}

// corpusFiles hashes the files the split's documents were read from
// (Document.Source, paths joined by ";"): path → SHA-256, and one SHA-256
// over the sorted file hashes (independent of where the files are).
func corpusFiles(split Split) (map[string]string, string, error) {
	files := map[string]string{}
	for _, c := range []*Corpus{split.Train, split.Dev, split.Test} {
		if c == nil {
			continue
		}
		for _, doc := range c.Documents {
			for _, p := range strings.Split(doc.Source, ";") {
				if p = strings.TrimSpace(p); p == "" {
					continue
				}
				if _, seen := files[p]; seen {
					continue
				}
				sum, err := engine.HashFile(p)
				if err != nil {
					if os.IsNotExist(err) {
						files[p] = "missing"
						continue
					}
					return nil, "", fmt.Errorf("ner: train: corpus file: %w", err)
				}
				files[p] = sum
			}
		}
	}
	sums := make([]string, 0, len(files))
	for _, s := range files {
		sums = append(sums, s)
	}
	sort.Strings(sums)
	h := sha256.New()
	for _, s := range sums {
		fmt.Fprintln(h, s)
	}
	return files, hex.EncodeToString(h.Sum(nil)), nil
}

// partDigest describes one part of a split: its documents, and the
// SHA-256 of their IDs and of their contents (words and tags).
func partDigest(c *Corpus) map[string]any {
	ids, content := sha256.New(), sha256.New()
	n := 0
	if c != nil {
		n = len(c.Documents)
		fmt.Fprintf(content, "scheme %s\n", c.Scheme)
		for _, d := range c.Documents {
			fmt.Fprintf(ids, "%s\n", d.ID)
			fmt.Fprintf(content, "doc %q\n", d.ID)
			for _, s := range d.Sentences {
				fmt.Fprintf(content, "%q %q\n", s.Words, s.Tags)
			}
		}
	}
	return map[string]any{"documents": n, "ids_sha256": hex.EncodeToString(ids.Sum(nil)), "content_sha256": hex.EncodeToString(content.Sum(nil))}
}

// saveModel writes the model and the tokenizer to dir atomically
// (engine.SaveModelDir: built beside dir, synced, swapped in; files in dir
// that Train does not write are kept). Only rank 0 of a data-parallel run
// writes.
func (tr *trainer) saveModel(dir string) error {
	if !tr.run.IsMain() {
		return nil // rank 0 writes
	}
	if err := engine.SaveModelDir(dir, tr.SaveModel); err != nil {
		return fmt.Errorf("ner: save %s: %w", dir, err)
	}
	tr.fault("model-dir")
	return nil
}

// removeModelDir deletes a model directory Train wrote (its files only).
func removeModelDir(dir string) error {
	if err := engine.RemoveModelDir(dir, modelFiles); err != nil {
		return fmt.Errorf("ner: remove %s: %w", dir, err)
	}
	return nil
}

// writeTestReports writes the test evaluation's files (the names
// Evaluation.WriteFiles uses, prefixed "test_") into dir as one set
// (atomicfile.WriteFiles): a failure such as a full disk leaves every
// report as it was, never one new and another old, empty or cut short.
func writeTestReports(ev *Evaluation, dir string) error {
	return ev.WriteFiles(dir, "test_")
}

// fault calls the test fault hook.
func (tr *trainer) fault(point string) {
	if f := tr.o.hooks.engine.Fault; f != nil {
		f(point)
	}
}
