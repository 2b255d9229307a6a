package ner

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
)

// Split is a partition of a corpus into training, development and test
// parts. The parts share Sentence slices with the corpus they came from.
type Split struct {
	Train, Dev, Test *Corpus
	// Seed, TrainFraction and DevFraction are SplitDocuments' arguments
	// (zero for a split made otherwise); Train records them in the run
	// manifest.
	Seed                       int64
	TrainFraction, DevFraction float64
	// Files names the files the parts were read from (SplitFromFiles);
	// empty for a split of one corpus.
	Files SplitFiles
}

// SplitStats holds ComputeStats of each part of a Split.
type SplitStats struct {
	Train Stats `json:"train"`
	Dev   Stats `json:"dev"`
	Test  Stats `json:"test"`
}

// Stats counts each part of s.
func (s Split) Stats() SplitStats {
	return SplitStats{Train: ComputeStats(s.Train), Dev: ComputeStats(s.Dev), Test: ComputeStats(s.Test)}
}

// shuffledGroups returns c's document groups in a seeded random order and
// the indices of the documents of each group (in corpus order), as
// SplitDocuments documents it.
func shuffledGroups(c *Corpus, seed int64) ([]string, map[string][]int) {
	members := map[string][]int{}
	for i, d := range c.Documents {
		g := d.Group
		if g == "" {
			g = d.ID
		}
		members[g] = append(members[g], i)
	}
	groups := make([]string, 0, len(members))
	for g := range members {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	for i := len(groups) - 1; i > 0; i-- {
		j := int(rng.Uint64() % uint64(i+1))
		groups[i], groups[j] = groups[j], groups[i]
	}
	return groups, members
}

// pick returns the documents at the given indices, in corpus order.
func pick(c *Corpus, idx []int) *Corpus {
	sort.Ints(idx)
	docs := make([]Document, 0, len(idx))
	for _, i := range idx {
		docs = append(docs, c.Documents[i])
	}
	return c.subset(docs)
}

// SplitDocuments partitions c by document group (Document.Group, or ID
// when empty): documents of one group always land in the same part. The
// paper uses 60/20/20: SplitDocuments(c, 0.6, 0.2, seed).
//
// Groups are sorted by name and shuffled by Fisher–Yates with a PCG
// generator seeded by seed (swap index Uint64() mod (i+1)), fully specified
// so that a seed gives the same split on every platform and Go version;
// then they are dealt in that order: a group goes to Train while Train holds fewer than
// round(train·N) documents, then to Dev while Dev holds fewer than
// round(dev·N), then to Test (N documents in all). So the parts are as
// close to the fractions as whole groups allow. Documents keep corpus order within a part. A part
// with a fraction above zero that receives no document is an error (too
// few groups).
func SplitDocuments(c *Corpus, train, dev float64, seed int64) (Split, error) {
	if c == nil || len(c.Documents) == 0 {
		return Split{}, errors.New("ner: split: empty corpus")
	}
	if math.IsNaN(train) || math.IsNaN(dev) || train <= 0 || train > 1 || dev < 0 || train+dev > 1+1e-9 {
		return Split{}, fmt.Errorf("ner: split: fractions train %g dev %g: want 0 < train ≤ 1, dev ≥ 0, train+dev ≤ 1", train, dev)
	}
	n := len(c.Documents)
	nTrain := int(math.Round(train * float64(n)))
	nDev := int(math.Round(dev * float64(n)))
	groups, members := shuffledGroups(c, seed)
	var tr, dv, te []int
	for _, g := range groups {
		switch {
		case len(tr) < nTrain:
			tr = append(tr, members[g]...)
		case len(dv) < nDev:
			dv = append(dv, members[g]...)
		default:
			te = append(te, members[g]...)
		}
	}
	test := 1 - train - dev
	for _, part := range []struct {
		name string
		frac float64
		docs []int
	}{{"train", train, tr}, {"dev", dev, dv}, {"test", test, te}} {
		if part.frac > 1e-9 && len(part.docs) == 0 {
			return Split{}, fmt.Errorf("ner: split: %d document group(s) leave the %s part (fraction %g) empty", len(groups), part.name, part.frac)
		}
	}
	return Split{Train: pick(c, tr), Dev: pick(c, dv), Test: pick(c, te), Seed: seed, TrainFraction: train, DevFraction: dev}, nil
}

// KFold partitions c into k folds by document group and returns k splits:
// split i tests on fold i and trains on the others; its Dev corpus is
// empty (carve one out of Train with SplitDocuments when needed). Groups are
// shuffled as in SplitDocuments and each goes, in that order, to the fold
// with the fewest documents so far (the first such fold on ties).
func KFold(c *Corpus, k int, seed int64) ([]Split, error) {
	if c == nil || len(c.Documents) == 0 {
		return nil, errors.New("ner: k-fold: empty corpus")
	}
	groups, members := shuffledGroups(c, seed)
	if k < 2 || k > len(groups) {
		return nil, fmt.Errorf("ner: k-fold: k = %d, want 2 ≤ k ≤ %d (document groups)", k, len(groups))
	}
	folds := make([][]int, k)
	for _, g := range groups {
		best := 0
		for f := 1; f < k; f++ {
			if len(folds[f]) < len(folds[best]) {
				best = f
			}
		}
		folds[best] = append(folds[best], members[g]...)
	}
	out := make([]Split, k)
	for i := range folds {
		var tr []int
		for j, f := range folds {
			if j != i {
				tr = append(tr, f...)
			}
		}
		out[i] = Split{Train: pick(c, tr), Dev: c.subset(nil), Test: pick(c, append([]int(nil), folds[i]...))}
	}
	return out, nil
}

// splitFiles are the file names WriteFileLists writes, one per part.
var splitFiles = [3]string{"train.txt", "dev.txt", "test.txt"}

// WriteFileLists writes the document IDs of each part to dir/train.txt,
// dir/dev.txt and dir/test.txt, one ID a line, in part order, creating dir
// when needed, all three or none (atomicfile.WriteFiles). ReadFileLists
// rebuilds the split from them.
func (s Split) WriteFileLists(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("ner: write split: %w", err)
	}
	var files []atomicfile.File
	for i, part := range []*Corpus{s.Train, s.Dev, s.Test} {
		var b strings.Builder
		if part != nil {
			for _, d := range part.Documents {
				if d.ID == "" || strings.ContainsAny(d.ID, "\n\r") {
					return fmt.Errorf("ner: write split: document ID %q cannot be listed", d.ID)
				}
				b.WriteString(d.ID)
				b.WriteByte('\n')
			}
		}
		files = append(files, atomicfile.File{Path: filepath.Join(dir, splitFiles[i]), Data: []byte(b.String())})
	}
	if err := atomicfile.WriteFiles(files...); err != nil {
		return fmt.Errorf("ner: write split: %w", err)
	}
	return nil
}

// ReadFileLists rebuilds a split of c from the lists WriteFileLists wrote
// in dir. Every listed ID must name a document of c, and every document of
// c must be listed exactly once; otherwise the error names the file and
// line (or the unlisted document). Parts keep the lists' order.
func ReadFileLists(dir string, c *Corpus) (Split, error) {
	if c == nil {
		return Split{}, errors.New("ner: read split: nil corpus")
	}
	byID := map[string]int{}
	for i, d := range c.Documents {
		byID[d.ID] = i
	}
	where := map[string]string{}
	var parts [3]*Corpus
	for i, name := range splitFiles {
		path := filepath.Join(dir, name)
		f, err := os.Open(path)
		if err != nil {
			return Split{}, fmt.Errorf("ner: read split: %w", err)
		}
		var docs []Document
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for line := 1; sc.Scan(); line++ {
			id := strings.TrimRight(sc.Text(), "\r")
			if id == "" {
				continue
			}
			di, ok := byID[id]
			if !ok {
				f.Close()
				return Split{}, fmt.Errorf("ner: read split %s:%d: document %q is not in the corpus", path, line, id)
			}
			if prev, dup := where[id]; dup {
				f.Close()
				return Split{}, fmt.Errorf("ner: read split %s:%d: document %q already listed at %s", path, line, id, prev)
			}
			where[id] = fmt.Sprintf("%s:%d", path, line)
			docs = append(docs, c.Documents[di])
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return Split{}, fmt.Errorf("ner: read split %s: %w", path, err)
		}
		parts[i] = c.subset(docs)
	}
	for _, d := range c.Documents {
		if _, ok := where[d.ID]; !ok {
			return Split{}, fmt.Errorf("ner: read split %s: document %q is in no list", dir, d.ID)
		}
	}
	return Split{Train: parts[0], Dev: parts[1], Test: parts[2]}, nil
}
