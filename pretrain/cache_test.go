package pretrain

import (
	"context"
	"encoding/binary"
	"hash/crc32"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildTestCache writes a random corpus and builds its cache.
func buildTestCache(t testing.TB, enc *fakeEncoder, nLines, blankEvery int, opts CacheOptions) (*Cache, []string) {
	t.Helper()
	dir := t.TempDir()
	f := writeFile(t, dir, "corpus.txt", []byte(randomText(7, nLines, blankEvery)))
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	c, err := BuildCache(context.Background(), []string{f}, enc, opts)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, []string{f}
}

func TestBuildCacheContents(t *testing.T) {
	enc := newFakeEncoder()
	for _, format := range []CorpusFormat{Lines, Paragraphs} {
		t.Run(format.String(), func(t *testing.T) {
			c, files := buildTestCache(t, enc, 500, 7, CacheOptions{Corpus: CorpusOptions{Format: format}, Workers: 3, ChunkDocs: 5})
			assert.Equal(t, CacheBuilt, c.Status())
			// Reference: read and encode sequentially.
			var wantSent [][]uint32
			var wantDocs []int
			require.NoError(t, ReadCorpus(context.Background(), files, CorpusOptions{Format: format}, func(d Document) error {
				for _, s := range d.Sentences {
					ids, _ := enc.EncodeIDs(s)
					u := make([]uint32, len(ids))
					for i, x := range ids {
						u[i] = uint32(x)
					}
					wantSent = append(wantSent, u)
				}
				wantDocs = append(wantDocs, len(d.Sentences))
				return nil
			}))
			require.Equal(t, len(wantSent), c.NumSentences())
			require.Equal(t, len(wantDocs), c.NumDocuments())
			for i, w := range wantSent {
				require.Equal(t, w, c.Sentence(i), "sentence %d", i)
			}
			for d, n := range wantDocs {
				lo, hi := c.DocumentSentences(d)
				require.Equal(t, n, hi-lo, "document %d", d)
			}
			assert.Equal(t, Specials{CLS: 2, SEP: 3, PAD: 0, MASK: 4, UNK: 1, VocabSize: enc.VocabSize()}, c.Specials())
		})
	}
}

func TestBuildCacheWorkersGiveIdenticalFiles(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "corpus.txt", []byte(randomText(3, 2000, 0)))
	var contents [][]byte
	for _, w := range []int{1, 4} {
		c, err := BuildCache(context.Background(), []string{f}, newFakeEncoder(), CacheOptions{Dir: t.TempDir(), Workers: w, ChunkDocs: 3})
		require.NoError(t, err)
		b, err := os.ReadFile(c.Path())
		require.NoError(t, err)
		contents = append(contents, b)
		require.NoError(t, c.Close())
		require.NoError(t, c.Close())
	}
	assert.Equal(t, contents[0], contents[1])
}

func TestCacheReuseAndInvalidation(t *testing.T) {
	dir := t.TempDir()
	cacheDir := t.TempDir()
	f := writeFile(t, dir, "corpus.txt", []byte(randomText(1, 300, 0)))
	enc := newFakeEncoder()
	ctx := context.Background()
	opts := CacheOptions{Dir: cacheDir}

	c1, err := BuildCache(ctx, []string{f}, enc, opts)
	require.NoError(t, err)
	assert.Equal(t, CacheBuilt, c1.Status())
	calls := enc.calls.Load()
	require.Positive(t, calls)
	n1 := c1.NumTokens()
	require.NoError(t, c1.Close())

	c2, err := BuildCache(ctx, []string{f}, enc, opts)
	require.NoError(t, err)
	assert.Equal(t, CacheReused, c2.Status())
	assert.Equal(t, calls, enc.calls.Load(), "second build must not encode")
	assert.Equal(t, n1, c2.NumTokens())
	assert.Equal(t, c1.Path(), c2.Path())
	require.NoError(t, c2.Close())

	// Same key inputs, another corpus option: another cache.
	c3, err := BuildCache(ctx, []string{f}, enc, CacheOptions{Dir: cacheDir, Corpus: CorpusOptions{Format: Paragraphs}})
	require.NoError(t, err)
	assert.Equal(t, CacheBuilt, c3.Status())
	assert.NotEqual(t, c1.Path(), c3.Path())
	require.NoError(t, c3.Close())

	// A changed corpus invalidates the cache.
	require.NoError(t, os.WriteFile(f, []byte(randomText(2, 300, 0)), 0o644))
	future := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(f, future, future))
	before := enc.calls.Load()
	c4, err := BuildCache(ctx, []string{f}, enc, opts)
	require.NoError(t, err)
	assert.Equal(t, CacheBuilt, c4.Status())
	assert.Greater(t, enc.calls.Load(), before)
	assert.NotEqual(t, c1.Path(), c4.Path())
	require.NoError(t, c4.Close())

	// Rebuild forces encoding.
	before = enc.calls.Load()
	c5, err := BuildCache(ctx, []string{f}, enc, CacheOptions{Dir: cacheDir, Rebuild: true})
	require.NoError(t, err)
	assert.Equal(t, CacheRebuilt, c5.Status())
	assert.Greater(t, enc.calls.Load(), before)
	require.NoError(t, c5.Close())

	// Another vocabulary (or options) gives another key.
	enc2 := newFakeEncoder()
	enc2.tokens[10] = "zz"
	k1, err := CacheKey([]string{f}, enc, CorpusOptions{})
	require.NoError(t, err)
	k2, err := CacheKey([]string{f}, enc2, CorpusOptions{})
	require.NoError(t, err)
	assert.NotEqual(t, k1, k2)
	k3, err := CacheKey([]string{f}, optionsEncoder{enc, "lower"}, CorpusOptions{})
	require.NoError(t, err)
	k4, err := CacheKey([]string{f}, optionsEncoder{enc, "cased"}, CorpusOptions{})
	require.NoError(t, err)
	assert.NotEqual(t, k3, k4)
	assert.NotEqual(t, k1, k3)
}

// optionsEncoder adds an Options method, which the fingerprint includes.
type optionsEncoder struct {
	*fakeEncoder
	mode string
}

func (o optionsEncoder) Options() struct{ Mode string } { return struct{ Mode string }{o.mode} }

func TestCacheCorruption(t *testing.T) {
	enc := newFakeEncoder()
	dir := t.TempDir()
	f := writeFile(t, dir, "corpus.txt", []byte(randomText(1, 200, 0)))
	cacheDir := t.TempDir()
	c, err := BuildCache(context.Background(), []string{f}, enc, CacheOptions{Dir: cacheDir})
	require.NoError(t, err)
	path := c.Path()
	require.NoError(t, c.Close())
	good, err := os.ReadFile(path)
	require.NoError(t, err)

	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)-9], "truncated"},
		{"truncated header", good[:50], "header"},
		{"empty", nil, "truncated"},
		{"body bit flip", flip(headerSize + 5), "checksum"},
		{"header bit flip", flip(75), "header checksum"},
		{"not a cache", []byte(strings.Repeat("hello", 40)), "magic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, tc.data, 0o644))
			_, err := OpenCache(path)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrCorruptCache)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), path)

			before := enc.calls.Load()
			c, err := BuildCache(context.Background(), []string{f}, enc, CacheOptions{Dir: cacheDir})
			require.NoError(t, err)
			assert.Equal(t, CacheRebuilt, c.Status())
			assert.Greater(t, enc.calls.Load(), before)
			require.NoError(t, c.Close())
			rebuilt, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, good, rebuilt)
		})
	}
}

func TestBuildCacheErrors(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "corpus.txt", []byte("abc abd\nfailhere ab\nabc\npanichere\n"))
	unk := writeFile(t, dir, "unk.txt", []byte("\n\n"))
	ctx := context.Background()

	enc := newFakeEncoder()
	enc.fail = "failhere"
	_, err := BuildCache(ctx, []string{f}, enc, CacheOptions{Dir: t.TempDir(), Workers: 2, ChunkDocs: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "corpus.txt:2")
	assert.Contains(t, err.Error(), "fake failure")

	enc = newFakeEncoder()
	enc.panics = "panichere"
	cacheDir := t.TempDir()
	_, err = BuildCache(ctx, []string{f}, enc, CacheOptions{Dir: cacheDir, Workers: 2, ChunkDocs: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "corpus.txt:4")
	assert.Contains(t, err.Error(), "panic")
	left, err := os.ReadDir(cacheDir)
	require.NoError(t, err)
	assert.Empty(t, left, "a failed build leaves no file behind")

	_, err = BuildCache(ctx, []string{unk}, newFakeEncoder(), CacheOptions{Dir: t.TempDir()})
	assert.ErrorIs(t, err, ErrEmptyCorpus)

	// Text that encodes to nothing is an empty corpus too.
	nothing := writeFile(t, dir, "nothing.txt", []byte("   \nsilence\n\nsilence too\n"))
	enc = newFakeEncoder()
	enc.drop = "silence"
	_, err = BuildCache(ctx, []string{nothing}, enc, CacheOptions{Dir: t.TempDir()})
	assert.ErrorIs(t, err, ErrEmptyCorpus)
	assert.ErrorContains(t, err, "no sentence encodes")

	_, err = BuildCache(ctx, []string{f}, newFakeEncoder(), CacheOptions{})
	assert.ErrorContains(t, err, "Dir is required")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = BuildCache(cctx, []string{f}, newFakeEncoder(), CacheOptions{Dir: t.TempDir()})
	assert.ErrorIs(t, err, context.Canceled)
}

// FuzzParseCache: no file content makes the cache reader panic, and what it
// accepts is consistent enough to read every sentence.
func FuzzParseCache(f *testing.F) {
	dir := f.TempDir()
	corpus := writeFile(f, dir, "c.txt", []byte("abc ab\n\nb cde\nbad\n"))
	c, err := BuildCache(context.Background(), []string{corpus}, newFakeEncoder(), CacheOptions{Dir: dir, Corpus: CorpusOptions{Format: Paragraphs}})
	require.NoError(f, err)
	good, err := os.ReadFile(c.Path())
	require.NoError(f, err)
	c.Close()
	f.Add(good, false)
	f.Add(good, true)
	f.Add(good[:headerSize], true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, data []byte, fixCRC bool) {
		if fixCRC && len(data) >= headerSize {
			// Recompute the checksums so that the structural checks are reached.
			data = append([]byte(nil), data...)
			binary.LittleEndian.PutUint32(data[96:], crc32.Checksum(data[headerSize:], castagnoli))
			binary.LittleEndian.PutUint32(data[100:], crc32.Checksum(data[:100], castagnoli))
		}
		c, err := parseCache("fuzz", data)
		if err != nil {
			require.ErrorIs(t, err, ErrCorruptCache)
			return
		}
		for i := 0; i < c.NumSentences(); i++ {
			_ = c.Sentence(i)
		}
		for d := 0; d < c.NumDocuments(); d++ {
			lo, hi := c.DocumentSentences(d)
			require.LessOrEqual(t, lo, hi)
		}
		if train, _, err := NewDatasets(c, BlockOptions{BlockSize: 8, KeepLast: true}); err == nil {
			for i := 0; i < train.Len(); i++ {
				_, err := train.Example(i, nil)
				require.NoError(t, err)
			}
		}
	})
}
