package serve

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

// tinyTaggerDir writes a freshly initialised tiny token-classification
// model whose labels are O and B-/I- of each type.
func tinyTaggerDir(t *testing.T, types ...string) string {
	t.Helper()
	labels := []string{"O"}
	for _, typ := range types {
		labels = append(labels, "B-"+typ, "I-"+typ)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tok, err := tokenize.New(strings.Split(strings.TrimRight(string(demodata.Vocab()), "\n"), "\n"), tokenize.DefaultOptions(), "demodata")
	require.NoError(t, err)
	cfg := bert.TinyConfig()
	cfg.VocabSize, cfg.MaxPositionEmbeddings = tok.VocabSize(), 64
	require.NoError(t, cfg.SetLabels(labels))
	m, err := bert.NewForTokenClassification(cfg, gotch.CPU)
	require.NoError(t, err)
	defer m.Close()
	dir := filepath.Join(t.TempDir(), "tiny-bert")
	require.NoError(t, m.Save(dir))
	require.NoError(t, tok.Save(dir))
	return dir
}

// TestAnswersEqualTaggerPredict sends the demo notes to a server on a real
// model from 8 clients at once and checks every answer against
// Tagger.Predict on the same text.
func TestAnswersEqualTaggerPredict(t *testing.T) {
	dir := tinyTaggerDir(t, "C", "T", "DT")
	m, err := LoadModel("tiny", dir, ner.TaggerOptions{MaxLen: 32, BatchSize: 8})
	require.NoError(t, err)
	defer m.Close()
	tg := m.Taggers[0].(*ner.Tagger)
	o := DefaultOptions()
	o.Models = []Model{m}
	o.MaxBatchTokens = 256
	_, url := startServer(t, o)

	var texts []string
	for _, l := range strings.Split(demodata.ClinicalText(), "\n")[:60] {
		if strings.TrimSpace(l) != "" {
			texts = append(texts, l)
		}
	}
	texts = append(texts, demodata.SampleSentence(), strings.Repeat("Dor torácica há 2 dias; nega febre. ", 12))
	want := make([][]ner.Entity, len(texts))
	total := 0
	for i, text := range texts {
		want[i], err = tg.Predict(text)
		require.NoError(t, err)
		total += len(want[i])
	}
	require.Greater(t, total, 50, "the random model tags entities to compare")

	check := func(i int, got []ner.Entity) error {
		if len(got) != len(want[i]) {
			return fmt.Errorf("text %d: %d entities, want %d", i, len(got), len(want[i]))
		}
		for j, e := range got {
			w := want[i][j]
			if e.Type != w.Type || e.Text != w.Text || e.Start != w.Start || e.End != w.End || e.Score-w.Score > 1e-5 || w.Score-e.Score > 1e-5 {
				return fmt.Errorf("text %d entity %d: %+v, want %+v", i, j, e, w)
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(texts)+8)
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; i < len(texts); i += 8 {
				body, _ := json.Marshal(map[string]string{"text": texts[i]})
				r := post(t, url, string(body))
				if r.status != 200 {
					errs <- fmt.Errorf("text %d: status %d: %s", i, r.status, r.body)
					continue
				}
				var resp Response
				if err := json.Unmarshal(r.body, &resp); err != nil {
					errs <- err
					continue
				}
				if err := check(i, resp.Documents[0].Entities); err != nil {
					errs <- err
				}
			}
		}(c)
	}
	wg.Wait()
	// All texts in one request, as documents.
	docs := make([]Document, len(texts))
	for i, text := range texts {
		docs[i] = Document{ID: fmt.Sprint("doc", i), Text: text}
	}
	body, _ := json.Marshal(Request{Documents: docs})
	resp := post(t, url, string(body)).response(t)
	require.Len(t, resp.Documents, len(texts))
	for i, d := range resp.Documents {
		assert.Equal(t, i, d.Index)
		assert.Equal(t, docs[i].ID, d.ID)
		if err := check(i, d.Entities); err != nil {
			errs <- err
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestGroupModelDirectory loads a directory of per-group binary models,
// laid out as train-ner -group all and ner-semclinbr write them, and checks
// that the answer holds every group's entities.
func TestGroupModelDirectory(t *testing.T) {
	root := t.TempDir()
	groups := []string{"Disorders", "Chemicals_and_Drugs"}
	for _, g := range groups {
		require.NoError(t, os.MkdirAll(filepath.Join(root, "groups", g), 0o755))
		require.NoError(t, os.Rename(tinyTaggerDir(t, g), filepath.Join(root, "groups", g, "best")))
	}
	dirs, err := ModelDirs(root)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(root, "groups", "Chemicals_and_Drugs", "best"), filepath.Join(root, "groups", "Disorders", "best")}, dirs)
	dirs2, err := ModelDirs(filepath.Join(root, "groups"))
	require.NoError(t, err)
	assert.Equal(t, dirs, dirs2)
	single, err := ModelDirs(dirs[0])
	require.NoError(t, err)
	assert.Equal(t, dirs[:1], single)
	_, err = ModelDirs(t.TempDir())
	assert.ErrorContains(t, err, "no config.json")
	_, err = ModelDirs(filepath.Join(root, "missing"))
	assert.Error(t, err)

	m, err := LoadModel("semclinbr", root, ner.TaggerOptions{MaxLen: 32})
	require.NoError(t, err)
	defer m.Close()
	require.Len(t, m.Taggers, 2)
	o := DefaultOptions()
	o.Models = []Model{m}
	_, url := startServer(t, o)

	var info struct{ Models []ModelInfo }
	require.NoError(t, json.Unmarshal(get(t, url, "/v1/models").body, &info))
	assert.Equal(t, []string{"Chemicals_and_Drugs", "Disorders"}, info.Models[0].EntityTypes)
	assert.Equal(t, []string{"O", "B-Chemicals_and_Drugs", "I-Chemicals_and_Drugs", "B-Disorders", "I-Disorders"}, info.Models[0].Labels)
	assert.Equal(t, 32, info.Models[0].MaxLength)

	text := demodata.SampleSentence()
	var want []ner.Entity
	for _, tg := range m.Taggers {
		es, err := tg.(*ner.Tagger).Predict(text)
		require.NoError(t, err)
		want = append(want, es...)
	}
	require.NotEmpty(t, want)
	sortEntities(want)
	body, _ := json.Marshal(map[string]string{"text": text})
	got := post(t, url, string(body)).response(t).Documents[0].Entities
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].Type, got[i].Type)
		assert.Equal(t, want[i].Start, got[i].Start)
		assert.Equal(t, want[i].End, got[i].End)
		assert.InDelta(t, want[i].Score, got[i].Score, 1e-5)
	}
	_, err = LoadModel("bad", t.TempDir(), ner.TaggerOptions{})
	assert.Error(t, err)
}
