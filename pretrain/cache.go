package pretrain

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
)

// Vocab is what the data pipeline needs from a tokenizer's vocabulary.
// *tokenize.Tokenizer implements it.
type Vocab interface {
	CLS() int
	SEP() int
	PAD() int
	MASK() int
	UNK() int
	VocabSize() int
	Token(id int) string // "" for an id outside the vocabulary
}

// Encoder turns text into token ids without special tokens. *tokenize.Tokenizer
// implements it. EncodeIDs must be safe for concurrent use (BuildCache calls
// it from several goroutines).
type Encoder interface {
	Vocab
	EncodeIDs(text string) ([]int32, error)
}

// VocabFingerprint returns a hex SHA-256 over the vocabulary (every
// Token(0..VocabSize-1)), the special-token ids and, when v has a method
// Options() with one result, that result as JSON (lower-casing, accent
// stripping and the like change the ids). Two encoders with equal
// fingerprints are assumed to encode alike.
func VocabFingerprint(v Vocab) (fp string, err error) {
	defer recoverAs(&err, "vocab fingerprint")
	h := sha256.New()
	n := v.VocabSize()
	if n <= 0 {
		return "", fmt.Errorf("pretrain: vocab fingerprint: VocabSize %d", n)
	}
	fmt.Fprintf(h, "vocab %d\n", n)
	for i := 0; i < n; i++ {
		io.WriteString(h, v.Token(i))
		h.Write([]byte{0})
	}
	fmt.Fprintf(h, "\nspecials cls=%d sep=%d pad=%d mask=%d unk=%d\n", v.CLS(), v.SEP(), v.PAD(), v.MASK(), v.UNK())
	if m := reflect.ValueOf(v).MethodByName("Options"); m.IsValid() && m.Type().NumIn() == 0 && m.Type().NumOut() == 1 {
		out := m.Call(nil)[0].Interface()
		b, err := json.Marshal(out)
		if err != nil {
			b = []byte(fmt.Sprintf("%+v", out))
		}
		fmt.Fprintf(h, "options %T %s\n", out, b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func recoverAs(err *error, what string) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("pretrain: %s: panic: %v", what, p)
	}
}

// CacheVersion is the version of the cache file format; it is part of the key.
const CacheVersion = 1

// ErrCorruptCache is returned (wrapped) by OpenCache for a cache file that is
// truncated, fails its checksum or holds inconsistent offsets.
var ErrCorruptCache = errors.New("corrupt token cache")

// CacheOptions configures BuildCache.
type CacheOptions struct {
	// Dir holds the cache files (<key>.tokens). Required; created if missing.
	Dir string
	// Corpus: how the corpus files are read.
	Corpus CorpusOptions
	// Workers encoding in parallel; 0 means runtime.GOMAXPROCS(0).
	Workers int
	// ChunkDocs: documents per unit of parallel work; 0 means 256.
	ChunkDocs int
	// Rebuild forces re-encoding even when a valid cache exists.
	Rebuild bool
	// Progress, when not nil, is called from the writing goroutine after each
	// chunk with the documents and tokens written so far.
	Progress func(docs, tokens int64)
}

// Validate checks the options.
func (o CacheOptions) Validate() error {
	if o.Dir == "" {
		return errors.New("pretrain: cache options: Dir is required")
	}
	if o.Workers < 0 {
		return fmt.Errorf("pretrain: cache options: Workers %d < 0", o.Workers)
	}
	if o.ChunkDocs < 0 {
		return fmt.Errorf("pretrain: cache options: ChunkDocs %d < 0", o.ChunkDocs)
	}
	return o.Corpus.Validate()
}

// CacheStatus says how BuildCache obtained its cache.
type CacheStatus int

const (
	// CacheBuilt: no cache file existed; the corpus was encoded.
	CacheBuilt CacheStatus = iota
	// CacheReused: a valid cache with the same key was opened; nothing was encoded.
	CacheReused
	// CacheRebuilt: a cache file existed but was corrupt (or Rebuild was set); the corpus was encoded again.
	CacheRebuilt
)

// String returns "built", "reused" or "rebuilt".
func (s CacheStatus) String() string {
	switch s {
	case CacheBuilt:
		return "built"
	case CacheReused:
		return "reused"
	case CacheRebuilt:
		return "rebuilt"
	}
	return fmt.Sprintf("CacheStatus(%d)", int(s))
}

// Specials are the special-token ids and vocabulary size recorded in a cache.
type Specials struct {
	CLS, SEP, PAD, MASK, UNK int
	VocabSize                int
}

func specialsOf(v Vocab) (s Specials, err error) {
	defer recoverAs(&err, "vocab")
	s = Specials{CLS: v.CLS(), SEP: v.SEP(), PAD: v.PAD(), MASK: v.MASK(), UNK: v.UNK(), VocabSize: v.VocabSize()}
	return s, s.validate()
}

func (s Specials) validate() error {
	if s.VocabSize <= 0 || s.VocabSize > 1<<31-1 {
		return fmt.Errorf("pretrain: vocab size %d", s.VocabSize)
	}
	for _, x := range []struct {
		name string
		id   int
	}{{"CLS", s.CLS}, {"SEP", s.SEP}, {"PAD", s.PAD}, {"MASK", s.MASK}, {"UNK", s.UNK}} {
		if x.id < 0 || x.id >= s.VocabSize {
			return fmt.Errorf("pretrain: vocab: %s id %d outside [0,%d)", x.name, x.id, s.VocabSize)
		}
	}
	return nil
}

// CacheKey returns the hex key naming the cache of files encoded by enc with
// opts. It hashes, in order: the format version; VocabFingerprint(enc); the
// corpus format and SplitName; and for every file its absolute path, size,
// modification time and the SHA-256 of its first and last 64 KiB.
//
// Hashing the head and tail instead of the whole content keeps the key
// cheap for multi-gigabyte corpora; an edit anywhere changes the
// modification time, and an edit that keeps size and time (a deliberate
// touch -r) and spares both ends goes unnoticed: set Rebuild then.
func CacheKey(files []string, enc Vocab, opts CorpusOptions) (string, error) {
	fp, err := VocabFingerprint(enc)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "biobertpt pretrain token cache v%d\nvocab %s\nformat %s\nsplit %q\n", CacheVersion, fp, opts.Format, opts.SplitName)
	for _, f := range files {
		if err := hashFileIdentity(h, f); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

const edgeBytes = 64 << 10

func hashFileIdentity(h hash.Hash, name string) error {
	abs, err := filepath.Abs(name)
	if err != nil {
		return fmt.Errorf("pretrain: cache key: %s: %w", name, err)
	}
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("pretrain: cache key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("pretrain: cache key: %w", err)
	}
	size := st.Size()
	fmt.Fprintf(h, "file %q size %d mtime %d\n", abs, size, st.ModTime().UnixNano())
	buf := make([]byte, edgeBytes)
	for _, off := range []int64{0, max(0, size-edgeBytes)} {
		n, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return fmt.Errorf("pretrain: cache key: read %s: %w", name, err)
		}
		sum := sha256.Sum256(buf[:n])
		h.Write(sum[:])
	}
	return nil
}

// Cache is a read-only, memory-mapped token cache: the token ids (without
// special tokens) of every sentence of a corpus, sentence boundaries and
// document boundaries. It is safe for concurrent reads. Close unmaps it;
// slices returned by Sentence are invalid afterwards.
type Cache struct {
	path     string
	status   CacheStatus
	specials Specials
	key      [32]byte
	data     []byte // the whole file (mapped or read)
	unmap    func([]byte) error
	tokens   []uint32
	seqOff   []uint64 // len NumSentences+1, into tokens
	docOff   []uint64 // len NumDocuments+1, into sentences
}

// Path returns the cache file.
func (c *Cache) Path() string { return c.path }

// Status says whether BuildCache built, reused or rebuilt the file.
func (c *Cache) Status() CacheStatus { return c.status }

// Specials returns the special ids and vocabulary size the cache was built with.
func (c *Cache) Specials() Specials { return c.specials }

// NumTokens is the number of token ids, special tokens excluded.
func (c *Cache) NumTokens() int64 { return int64(len(c.tokens)) }

// NumSentences is the number of sentences (sequences).
func (c *Cache) NumSentences() int { return len(c.seqOff) - 1 }

// NumDocuments is the number of documents.
func (c *Cache) NumDocuments() int { return len(c.docOff) - 1 }

// Sentence returns the token ids of sentence i, aliasing the mapping: do not modify.
func (c *Cache) Sentence(i int) []uint32 { return c.tokens[c.seqOff[i]:c.seqOff[i+1]] }

// DocumentSentences returns the sentences [lo, hi) of document d.
func (c *Cache) DocumentSentences(d int) (lo, hi int) {
	return int(c.docOff[d]), int(c.docOff[d+1])
}

// Close releases the mapping. It is safe to call twice.
func (c *Cache) Close() error {
	if c == nil || c.data == nil {
		return nil
	}
	data := c.data
	c.data, c.tokens, c.seqOff, c.docOff = nil, nil, nil, nil
	if c.unmap != nil {
		if err := c.unmap(data); err != nil {
			return fmt.Errorf("pretrain: cache %s: unmap: %w", c.path, err)
		}
	}
	return nil
}

// File layout (little endian):
//
//	0   magic "BBPTTOK\x00"
//	8   uint32 version
//	12  uint32 vocab size
//	16  uint32 cls, sep, pad, mask, unk
//	36  uint32 reserved (0)
//	40  [32]byte key (SHA-256)
//	72  uint64 number of tokens T
//	80  uint64 number of sentences S
//	88  uint64 number of documents D
//	96  uint32 CRC-32C of the body
//	100 uint32 CRC-32C of bytes [0,100)
//	104 24 bytes reserved (0); header = 128 bytes
//	128 body: T × uint32 token ids, zero padding to a multiple of 8,
//	    (S+1) × uint64 sentence offsets into the tokens,
//	    (D+1) × uint64 document offsets into the sentences.
const (
	cacheMagic  = "BBPTTOK\x00"
	headerSize  = 128
	cacheSuffix = ".tokens"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type header struct {
	specials Specials
	key      [32]byte
	nTok     uint64
	nSeq     uint64
	nDoc     uint64
	bodyCRC  uint32
}

func (h header) encode() []byte {
	b := make([]byte, headerSize)
	copy(b, cacheMagic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], CacheVersion)
	le.PutUint32(b[12:], uint32(h.specials.VocabSize))
	for i, v := range []int{h.specials.CLS, h.specials.SEP, h.specials.PAD, h.specials.MASK, h.specials.UNK} {
		le.PutUint32(b[16+4*i:], uint32(v))
	}
	copy(b[40:72], h.key[:])
	le.PutUint64(b[72:], h.nTok)
	le.PutUint64(b[80:], h.nSeq)
	le.PutUint64(b[88:], h.nDoc)
	le.PutUint32(b[96:], h.bodyCRC)
	le.PutUint32(b[100:], crc32.Checksum(b[:100], castagnoli))
	return b
}

func tokensBytes(nTok uint64) uint64 { return (nTok*4 + 7) &^ 7 }

func expectedSize(h header) uint64 {
	return headerSize + tokensBytes(h.nTok) + 8*(h.nSeq+1) + 8*(h.nDoc+1)
}

// OpenCache opens and verifies a cache file: header, size, checksum and the
// consistency of its offsets and token ids. A damaged file gives an error
// wrapping ErrCorruptCache that names the file and the problem.
func OpenCache(path string) (*Cache, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("pretrain: cache: %w", err)
	}
	c, err := parseCache(path, data)
	if err != nil {
		if unmap != nil {
			unmap(data)
		}
		return nil, err
	}
	c.unmap = unmap
	c.status = CacheReused
	return c, nil
}

func corrupt(path, format string, args ...any) error {
	return fmt.Errorf("pretrain: cache %s: %w: %s (delete it or rebuild)", path, ErrCorruptCache, fmt.Sprintf(format, args...))
}

func parseCache(path string, data []byte) (*Cache, error) {
	if len(data) < headerSize {
		return nil, corrupt(path, "truncated: %d bytes, shorter than the %d-byte header", len(data), headerSize)
	}
	if string(data[:8]) != cacheMagic {
		return nil, corrupt(path, "not a token cache (bad magic)")
	}
	le := binary.LittleEndian
	if got := le.Uint32(data[100:]); got != crc32.Checksum(data[:100], castagnoli) {
		return nil, corrupt(path, "header checksum mismatch")
	}
	if v := le.Uint32(data[8:]); v != CacheVersion {
		return nil, corrupt(path, "format version %d, want %d", v, CacheVersion)
	}
	var h header
	h.specials.VocabSize = int(le.Uint32(data[12:]))
	sp := []*int{&h.specials.CLS, &h.specials.SEP, &h.specials.PAD, &h.specials.MASK, &h.specials.UNK}
	for i, p := range sp {
		*p = int(le.Uint32(data[16+4*i:]))
	}
	if err := h.specials.validate(); err != nil {
		return nil, corrupt(path, "%v", err)
	}
	copy(h.key[:], data[40:72])
	h.nTok, h.nSeq, h.nDoc = le.Uint64(data[72:]), le.Uint64(data[80:]), le.Uint64(data[88:])
	h.bodyCRC = le.Uint32(data[96:])
	if h.nTok > 1<<40 || h.nSeq > 1<<40 || h.nDoc > 1<<40 {
		return nil, corrupt(path, "implausible counts %d tokens, %d sentences, %d documents", h.nTok, h.nSeq, h.nDoc)
	}
	if want := expectedSize(h); uint64(len(data)) != want {
		return nil, corrupt(path, "size %d bytes, want %d (truncated or overwritten)", len(data), want)
	}
	if got := crc32.Checksum(data[headerSize:], castagnoli); got != h.bodyCRC {
		return nil, corrupt(path, "body checksum %08x, want %08x", got, h.bodyCRC)
	}
	c := &Cache{path: path, specials: h.specials, key: h.key, data: data}
	body := data[headerSize:]
	seqStart := tokensBytes(h.nTok)
	docStart := seqStart + 8*(h.nSeq+1)
	c.tokens = viewUint32(body[:h.nTok*4], int(h.nTok))
	c.seqOff = viewUint64(body[seqStart:docStart], int(h.nSeq+1))
	c.docOff = viewUint64(body[docStart:], int(h.nDoc+1))
	if err := checkOffsets(c.seqOff, h.nTok); err != nil {
		return nil, corrupt(path, "sentence offsets: %v", err)
	}
	if err := checkOffsets(c.docOff, h.nSeq); err != nil {
		return nil, corrupt(path, "document offsets: %v", err)
	}
	vs := uint32(h.specials.VocabSize)
	for i, t := range c.tokens {
		if t >= vs {
			return nil, corrupt(path, "token %d has id %d >= vocab size %d", i, t, vs)
		}
	}
	return c, nil
}

func checkOffsets(off []uint64, total uint64) error {
	if off[0] != 0 {
		return fmt.Errorf("first offset %d, want 0", off[0])
	}
	for i := 1; i < len(off); i++ {
		if off[i] < off[i-1] {
			return fmt.Errorf("offset %d decreases (%d < %d)", i, off[i], off[i-1])
		}
	}
	if last := off[len(off)-1]; last != total {
		return fmt.Errorf("last offset %d, want %d", last, total)
	}
	return nil
}

var littleEndianHost = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func viewUint32(b []byte, n int) []uint32 {
	if n == 0 {
		return []uint32{}
	}
	if littleEndianHost && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

func viewUint64(b []byte, n int) []uint64 {
	if littleEndianHost && uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
		return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out
}

// BuildCache returns the token cache of files encoded by enc, building it
// when Dir holds no valid cache with the same CacheKey. Building reads the
// corpus once (ReadCorpus), encodes chunks of documents on opts.Workers
// goroutines while keeping the corpus order, streams the ids to a temporary
// file in Dir, fsyncs it and renames it into place, so that an interrupted
// build never leaves a partial cache under the final name. A corrupt cache
// file is rebuilt (Status reports CacheRebuilt). Sentences that encode to no
// ids are dropped, and documents left without sentences.
func BuildCache(ctx context.Context, files []string, enc Encoder, opts CacheOptions) (*Cache, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if enc == nil {
		return nil, errors.New("pretrain: cache: nil encoder")
	}
	if len(files) == 0 {
		return nil, errors.New("pretrain: cache: no corpus files")
	}
	sp, err := specialsOf(enc)
	if err != nil {
		return nil, err
	}
	keyHex, err := CacheKey(files, enc, opts.Corpus)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("pretrain: cache: %w", err)
	}
	path := filepath.Join(opts.Dir, keyHex[:32]+cacheSuffix)
	status := CacheBuilt
	if _, err := os.Stat(path); err == nil {
		status = CacheRebuilt
		if !opts.Rebuild {
			c, err := OpenCache(path)
			if err == nil && hex.EncodeToString(c.key[:]) == keyHex {
				return c, nil
			}
			if err == nil {
				c.Close()
			}
		}
	}
	var key [32]byte
	if _, err := hex.Decode(key[:], []byte(keyHex)); err != nil {
		return nil, fmt.Errorf("pretrain: cache: %w", err)
	}
	if err := writeCache(ctx, path, key, sp, files, enc, opts); err != nil {
		return nil, err
	}
	c, err := OpenCache(path)
	if err != nil {
		return nil, err
	}
	c.status = status
	return c, nil
}

type chunk struct {
	seq  int
	docs []Document
}

type encoded struct {
	seq     int
	tokens  []uint32
	seqLens []uint64 // tokens per sentence
	docSeqs []uint64 // sentences per document
	err     error
}

func writeCache(ctx context.Context, path string, key [32]byte, sp Specials, files []string, enc Encoder, opts CacheOptions) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := opts.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunkDocs := opts.ChunkDocs
	if chunkDocs == 0 {
		chunkDocs = 256
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("pretrain: cache: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	p := startEncoding(ctx, files, enc, sp, opts.Corpus, workers, chunkDocs)
	bw := bufio.NewWriterSize(tmp, 1<<20)
	crc := crc32.New(castagnoli)
	if _, err := tmp.Write(make([]byte, headerSize)); err != nil {
		return fmt.Errorf("pretrain: cache: write %s: %w", tmp.Name(), err)
	}
	w := &cacheBody{out: io.MultiWriter(bw, crc), name: tmp.Name(), progress: opts.Progress, seqOff: []uint64{0}, docOff: []uint64{0}}
	werr := w.writeInOrder(p, cancel)
	rerr := <-p.readErr
	switch {
	case werr != nil:
		return werr
	case rerr != nil:
		return rerr
	}
	if len(w.docOff) == 1 {
		return fmt.Errorf("pretrain: corpus %s: %w (no sentence encodes to any token)", strings.Join(files, ", "), ErrEmptyCorpus)
	}
	w.writeOffsets()
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("pretrain: cache: write %s: %w", tmp.Name(), err)
	}
	h := header{specials: sp, key: key, nTok: w.nTok, nSeq: uint64(len(w.seqOff) - 1), nDoc: uint64(len(w.docOff) - 1), bodyCRC: crc.Sum32()}
	if _, err := tmp.WriteAt(h.encode(), 0); err != nil {
		return fmt.Errorf("pretrain: cache: write %s: %w", tmp.Name(), err)
	}
	return commitCache(tmp, path)
}

// encodePipeline is the reading and encoding half of writeCache: reader →
// jobs → workers → results. inflight bounds the chunks read but not yet
// written, so memory stays bounded however slow the writer or one worker
// is; the writer receives from it once per chunk written.
type encodePipeline struct {
	results  <-chan encoded
	inflight chan struct{}
	readErr  <-chan error
}

// startEncoding reads files in chunks of chunkDocs documents and encodes
// them on workers goroutines until ctx is cancelled.
func startEncoding(ctx context.Context, files []string, enc Encoder, sp Specials, corpus CorpusOptions, workers, chunkDocs int) encodePipeline {
	jobs := make(chan chunk)
	results := make(chan encoded, workers)
	inflight := make(chan struct{}, 2*workers+2)
	readErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		var cur []Document
		seq := 0
		send := func() error {
			select {
			case inflight <- struct{}{}:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case jobs <- chunk{seq: seq, docs: cur}:
			case <-ctx.Done():
				return ctx.Err()
			}
			seq++
			cur = nil
			return nil
		}
		err := ReadCorpus(ctx, files, corpus, func(d Document) error {
			cur = append(cur, d)
			if len(cur) == chunkDocs {
				return send()
			}
			return nil
		})
		if err == nil && len(cur) > 0 {
			err = send()
		}
		readErr <- err
	}()
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for ch := range jobs {
				r := encodeChunk(enc, sp, ch)
				select {
				case results <- r:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		for w := 0; w < workers; w++ {
			<-done
		}
		close(results)
	}()
	return encodePipeline{results: results, inflight: inflight, readErr: readErr}
}

// cacheBody writes the cache body after the header: the token ids chunk
// by chunk in reading order, then the sequence and document offsets.
type cacheBody struct {
	out      io.Writer
	name     string // the temporary file, for errors
	progress func(docs, tokens int64)
	nTok     uint64
	seqOff   []uint64
	docOff   []uint64
	scratch  []byte
}

// writeInOrder writes the encoded chunks in their reading order as they
// arrive; on the first error it cancels the pipeline and drains it.
func (w *cacheBody) writeInOrder(p encodePipeline, cancel func()) error {
	var (
		pending = map[int]encoded{}
		next    = 0
		werr    error
	)
	for r := range p.results {
		if werr != nil {
			continue // drain
		}
		if r.err != nil {
			werr = r.err
			cancel()
			continue
		}
		pending[r.seq] = r
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			<-p.inflight
			if err := w.writeChunk(c); err != nil {
				werr = err
				cancel()
				break
			}
		}
	}
	return werr
}

func (w *cacheBody) writeChunk(c encoded) error {
	w.scratch = appendUint32s(w.scratch[:0], c.tokens)
	if _, err := w.out.Write(w.scratch); err != nil {
		return fmt.Errorf("pretrain: cache: write %s: %w", w.name, err)
	}
	for _, n := range c.seqLens {
		w.nTok += n
		w.seqOff = append(w.seqOff, w.nTok)
	}
	for _, n := range c.docSeqs {
		w.docOff = append(w.docOff, w.docOff[len(w.docOff)-1]+n)
	}
	if w.progress != nil {
		w.progress(int64(len(w.docOff)-1), int64(w.nTok))
	}
	return nil
}

// writeOffsets pads the token ids to their section's size and writes the
// sequence and document offsets (errors surface at the flush).
func (w *cacheBody) writeOffsets() {
	if pad := tokensBytes(w.nTok) - 4*w.nTok; pad > 0 {
		w.out.Write(make([]byte, pad))
	}
	w.scratch = appendUint64s(w.scratch[:0], w.seqOff)
	w.out.Write(w.scratch)
	w.scratch = appendUint64s(w.scratch[:0], w.docOff)
	w.out.Write(w.scratch)
}

// commitCache syncs and closes the written temporary file and renames it
// to path, durably.
func commitCache(tmp *os.File, path string) error {
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("pretrain: cache: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("pretrain: cache: close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("pretrain: cache: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("pretrain: cache: %w", err)
	}
	return nil
}

func encodeChunk(enc Encoder, sp Specials, ch chunk) (r encoded) {
	r.seq = ch.seq
	var cur *Document
	defer func() {
		if p := recover(); p != nil {
			r.err = fmt.Errorf("pretrain: encode %s:%d: encoder panicked: %v", cur.File, cur.Line, p)
		}
	}()
	for di := range ch.docs {
		cur = &ch.docs[di]
		var nseq uint64
		for i, s := range cur.Sentences {
			ids, err := enc.EncodeIDs(s)
			if err != nil {
				r.err = fmt.Errorf("pretrain: encode %s:%d (sentence %d of the document): %w", cur.File, cur.Line, i+1, err)
				return r
			}
			if len(ids) == 0 {
				continue
			}
			for _, id := range ids {
				if id < 0 || int(id) >= sp.VocabSize {
					r.err = fmt.Errorf("pretrain: encode %s:%d: encoder returned id %d outside [0,%d)", cur.File, cur.Line, id, sp.VocabSize)
					return r
				}
				r.tokens = append(r.tokens, uint32(id))
			}
			r.seqLens = append(r.seqLens, uint64(len(ids)))
			nseq++
		}
		if nseq > 0 {
			r.docSeqs = append(r.docSeqs, nseq)
		}
	}
	return r
}

func appendUint32s(b []byte, v []uint32) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

func appendUint64s(b []byte, v []uint64) []byte {
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, x)
	}
	return b
}
