package hub

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	commit1 = "1111111111111111111111111111111111111111"
	commit2 = "2222222222222222222222222222222222222222"
)

// fakeHub mimics the Hub's resolve endpoint: git files answer a relative
// redirect to a resolve-cache path, LFS files a 302 to a separate CDN
// server, with the Hub's headers; the CDN honours Range requests.
type fakeHub struct {
	t    *testing.T
	hub  *httptest.Server
	cdn  *httptest.Server
	repo string

	mu          sync.Mutex
	refs        map[string]string            // branch or tag -> commit
	files       map[string]map[string][]byte // commit -> file -> content
	lfs         map[string]bool              // files stored in LFS
	token       string                       // required when not empty
	dropAfter   int                          // CDN: close the connection after this many bytes, once
	ignoreRange bool                         // CDN: answer 200 to Range requests
	corrupt     bool                         // CDN: serve other bytes than announced
	stall       time.Duration                // CDN: wait this long before answering
	heads, gets int
	ranges      []string // Range headers the CDN saw
	cdnAuth     []string // Authorization headers the CDN saw
	hubAuth     []string // Authorization headers the hub saw
}

func gitSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func weights(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func newFakeHub(t *testing.T) *fakeHub {
	f := &fakeHub{t: t, repo: "org/tiny-bert",
		refs: map[string]string{"main": commit2, "v1": commit1},
		files: map[string]map[string][]byte{
			commit1: {"config.json": []byte(`{"hidden_size": 8, "v": 1}`), "model.safetensors": weights(3000)},
			commit2: {"config.json": []byte(`{"hidden_size": 8, "v": 2}`), "vocab.txt": []byte("[PAD]\n[UNK]\n"),
				"model.safetensors": weights(200_000)},
		},
		lfs: map[string]bool{"model.safetensors": true, "pytorch_model.bin": true},
	}
	f.cdn = httptest.NewServer(http.HandlerFunc(f.serveCDN))
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	t.Cleanup(f.cdn.Close)
	t.Cleanup(f.hub.Close)
	return f
}

func (f *fakeHub) commitOf(rev string) (string, bool) {
	if c, ok := f.refs[rev]; ok {
		return c, true
	}
	_, ok := f.files[rev]
	return rev, ok
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hubAuth = append(f.hubAuth, r.Header.Get("Authorization"))
	if r.Method == http.MethodHead {
		f.heads++
	} else {
		f.gets++
	}
	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		w.Header().Set("X-Error-Code", "GatedRepo")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	// /api/resolve-cache/models/{org}/{name}/{commit}/{file}
	if rest, ok := strings.CutPrefix(r.URL.Path, "/api/resolve-cache/models/"+f.repo+"/"); ok {
		commit, file, _ := strings.Cut(rest, "/")
		b, ok := f.files[commit][file]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("X-Repo-Commit", commit)
		w.Header().Set("ETag", `"`+gitSHA1(b)+`"`)
		http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(b))
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+f.repo+"/resolve/")
	if !ok {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rev, file, _ := strings.Cut(rest, "/")
	commit, ok := f.commitOf(rev)
	if !ok {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", commit)
	b, ok := f.files[commit][file]
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if f.lfs[file] {
		w.Header().Set("X-Linked-Etag", `"`+sha256Hex(b)+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(b)))
		w.Header().Set("ETag", `"`+gitSHA1([]byte("lfs pointer"))+`"`)
		http.Redirect(w, r, f.cdn.URL+"/lfs/"+sha256Hex(b)+"?sig=abc", http.StatusFound)
		return
	}
	http.Redirect(w, r, "/api/resolve-cache/models/"+f.repo+"/"+commit+"/"+file, http.StatusTemporaryRedirect)
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.cdnAuth = append(f.cdnAuth, r.Header.Get("Authorization"))
	f.ranges = append(f.ranges, r.Header.Get("Range"))
	var b []byte
	for _, files := range f.files {
		for name, c := range files {
			if f.lfs[name] && "/lfs/"+sha256Hex(c) == r.URL.Path {
				b = c
			}
		}
	}
	drop, ignoreRange, corrupt, stall := f.dropAfter, f.ignoreRange, f.corrupt, f.stall
	f.dropAfter = 0
	f.mu.Unlock()
	if b == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if stall > 0 {
		time.Sleep(stall)
	}
	if corrupt {
		b = append([]byte(nil), b...)
		b[len(b)/2] ^= 0xff
	}
	if drop > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(http.StatusOK)
		w.Write(b[:drop])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection drops mid-file
	}
	if ignoreRange {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
		return
	}
	http.ServeContent(w, r, "blob", time.Time{}, bytes.NewReader(b))
}

// env isolates a test from the machine's HF_* variables and cache.
func env(t *testing.T) string {
	cache := t.TempDir()
	for _, k := range []string{"HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE", "HF_HOME", "HF_HUB_ETAG_TIMEOUT", "HF_HUB_DOWNLOAD_TIMEOUT"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_HUB_CACHE", cache)
	return cache
}

func (f *fakeHub) opts() Options {
	return Options{Endpoint: f.hub.URL, EtagTimeout: 5 * time.Second, DownloadTimeout: 5 * time.Second}
}

func readSnap(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	return b
}

func TestResolveDownloadsIntoHFCacheLayout(t *testing.T) {
	cache := env(t)
	f := newFakeHub(t)
	t.Setenv("HF_ENDPOINT", f.hub.URL)
	dir, err := Resolve(context.Background(), "org/tiny-bert", Options{})
	require.NoError(t, err)

	repoDir := filepath.Join(cache, "models--org--tiny-bert")
	assert.Equal(t, filepath.Join(repoDir, "snapshots", commit2), dir)
	ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	require.NoError(t, err)
	assert.Equal(t, commit2, string(ref))

	for name, want := range f.files[commit2] {
		assert.Equal(t, want, readSnap(t, dir, name), name)
		link, err := os.Readlink(filepath.Join(dir, name))
		require.NoError(t, err, name)
		etag := gitSHA1(want)
		if f.lfs[name] {
			etag = sha256Hex(want)
		}
		assert.Equal(t, filepath.Join("..", "..", "blobs", etag), link, name)
	}
	_, err = os.Stat(filepath.Join(dir, "tokenizer.json"))
	assert.True(t, os.IsNotExist(err), "optional absent file")
	_, err = os.Stat(filepath.Join(repoDir, ".no_exist", commit2, "tokenizer.json"))
	assert.NoError(t, err, "absence remembered")
	blobs, _ := filepath.Glob(filepath.Join(repoDir, "blobs", "*"))
	assert.Len(t, blobs, 3)

	// A second call downloads nothing: only metadata requests.
	getsBefore := f.gets
	cdnBefore := len(f.ranges)
	dir2, err := Resolve(context.Background(), "org/tiny-bert", Options{})
	require.NoError(t, err)
	assert.Equal(t, dir, dir2)
	assert.Equal(t, getsBefore, f.gets)
	assert.Equal(t, cdnBefore, len(f.ranges))
}

func TestResolveLocalDirectory(t *testing.T) {
	env(t)
	d := t.TempDir()
	got, err := Resolve(context.Background(), d, Options{Endpoint: "http://127.0.0.1:1"})
	require.NoError(t, err)
	assert.Equal(t, d, got)

	file := filepath.Join(d, "config.json")
	require.NoError(t, os.WriteFile(file, []byte("{}"), 0o644))
	_, err = Resolve(context.Background(), file, Options{})
	assert.ErrorContains(t, err, "is a file")

	_, err = Resolve(context.Background(), "./no/such/dir", Options{Offline: true})
	assert.ErrorContains(t, err, "neither a local directory nor a Hub repository id")
}

func TestResolveRunDirectory(t *testing.T) {
	env(t)
	model := func(dir string) string {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte("{}"), 0o644))
		return dir
	}
	pre := t.TempDir()
	final := model(filepath.Join(pre, "final"))
	model(filepath.Join(pre, "stage1", "final"))
	ner := t.TempDir()
	best := model(filepath.Join(ner, "best"))
	plain := model(t.TempDir())
	model(filepath.Join(plain, "final"))
	empty := t.TempDir()
	for _, tc := range []struct{ in, want string }{
		{pre, final},   // a pretraining run: final/
		{ner, best},    // an NER run: best/
		{plain, plain}, // a model directory is itself, whatever it holds
		{final, final}, // a run's model directory named directly
		{empty, empty}, // nothing to pick: loading reports what is missing
	} {
		got, err := Resolve(context.Background(), tc.in, Options{Offline: true})
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestResolveFallsBackToPytorchBin(t *testing.T) {
	cache := env(t)
	f := newFakeHub(t)
	delete(f.files[commit2], "model.safetensors")
	f.files[commit2]["pytorch_model.bin"] = weights(5000)
	dir, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.NoError(t, err)
	assert.Equal(t, weights(5000), readSnap(t, dir, "pytorch_model.bin"))
	_, err = os.Stat(filepath.Join(cache, "models--org--tiny-bert", ".no_exist", commit2, "model.safetensors"))
	assert.NoError(t, err)
}

func TestResolveMissingRequiredFiles(t *testing.T) {
	for _, tc := range []struct {
		name, drop, want string
	}{
		{"no config", "config.json", "org/tiny-bert@main: config.json not found"},
		{"no weights", "model.safetensors", "org/tiny-bert@main: model.safetensors or pytorch_model.bin not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env(t)
			f := newFakeHub(t)
			delete(f.files[commit2], tc.drop)
			_, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestResolveHTTPErrors(t *testing.T) {
	for _, tc := range []struct {
		name, id, want string
	}{
		{"unknown repo", "org/other", "org/other: repository not found or gated: set HF_TOKEN"},
		{"unknown revision", "org/tiny-bert@nope", `revision "nope" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env(t)
			f := newFakeHub(t)
			_, err := Resolve(context.Background(), tc.id, f.opts())
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestResolveToken(t *testing.T) {
	env(t)
	f := newFakeHub(t)
	f.token = "hf_secret"
	_, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.ErrorContains(t, err, "repository not found or gated: set HF_TOKEN (HTTP 401")

	t.Setenv("HF_TOKEN", "hf_wrong")
	_, err = Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.ErrorContains(t, err, "check that HF_TOKEN has access")

	t.Setenv("HF_TOKEN", "hf_secret")
	f.hubAuth, f.cdnAuth = nil, nil
	dir, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.NoError(t, err)
	assert.Equal(t, f.files[commit2]["model.safetensors"], readSnap(t, dir, "model.safetensors"))
	require.NotEmpty(t, f.hubAuth)
	for _, a := range f.hubAuth {
		assert.Equal(t, "Bearer hf_secret", a)
	}
	require.NotEmpty(t, f.cdnAuth)
	for _, a := range f.cdnAuth {
		assert.Empty(t, a, "the token must not leak to the CDN")
	}
}

func TestResolveResumesAfterDroppedConnection(t *testing.T) {
	cache := env(t)
	f := newFakeHub(t)
	f.dropAfter = 70_000
	_, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.ErrorContains(t, err, "partial file kept")

	w := f.files[commit2]["model.safetensors"]
	repoDir := filepath.Join(cache, "models--org--tiny-bert")
	inc := filepath.Join(repoDir, "blobs", sha256Hex(w)+".incomplete")
	st, err := os.Stat(inc)
	require.NoError(t, err)
	assert.Equal(t, int64(70_000), st.Size())
	_, err = os.Stat(filepath.Join(repoDir, "snapshots", commit2, "model.safetensors"))
	assert.True(t, os.IsNotExist(err), "no partial file in snapshots")

	dir, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.NoError(t, err)
	assert.Equal(t, w, readSnap(t, dir, "model.safetensors"))
	assert.Equal(t, "bytes=70000-", f.ranges[len(f.ranges)-1])
	_, err = os.Stat(inc)
	assert.True(t, os.IsNotExist(err))
}

func TestResolveRetriesWithinOneCall(t *testing.T) {
	env(t)
	f := newFakeHub(t)
	f.dropAfter = 1234
	o := f.opts()
	o.Retries = 1
	dir, err := Resolve(context.Background(), "org/tiny-bert", o)
	require.NoError(t, err)
	assert.Equal(t, f.files[commit2]["model.safetensors"], readSnap(t, dir, "model.safetensors"))
	assert.Equal(t, []string{"", "bytes=1234-"}, f.ranges)
}

func TestResolveServerIgnoringRangeRestarts(t *testing.T) {
	env(t)
	f := newFakeHub(t)
	f.dropAfter = 5000
	_, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.Error(t, err)
	f.ignoreRange = true
	dir, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.NoError(t, err)
	assert.Equal(t, "bytes=5000-", f.ranges[len(f.ranges)-1])
	assert.Equal(t, f.files[commit2]["model.safetensors"], readSnap(t, dir, "model.safetensors"))
}

func TestResolveChecksumMismatch(t *testing.T) {
	cache := env(t)
	f := newFakeHub(t)
	f.corrupt = true
	_, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.ErrorContains(t, err, "checksum mismatch: sha256")
	require.ErrorContains(t, err, "model.safetensors")
	repoDir := filepath.Join(cache, "models--org--tiny-bert")
	_, err = os.Stat(filepath.Join(repoDir, "snapshots", commit2, "model.safetensors"))
	assert.True(t, os.IsNotExist(err))
	left, _ := filepath.Glob(filepath.Join(repoDir, "blobs", sha256Hex(f.files[commit2]["model.safetensors"])+"*"))
	assert.Empty(t, left)
	_, err = os.Stat(filepath.Join(repoDir, "refs", "main"))
	assert.True(t, os.IsNotExist(err), "no ref for a failed snapshot")
}

func TestResolveStalledDownload(t *testing.T) {
	env(t)
	f := newFakeHub(t)
	f.stall = time.Second
	o := f.opts()
	o.DownloadTimeout = 100 * time.Millisecond
	_, err := Resolve(context.Background(), "org/tiny-bert", o)
	assert.ErrorContains(t, err, "download stalled")
}

func TestResolveRevisions(t *testing.T) {
	cache := env(t)
	f := newFakeHub(t)
	repoDir := filepath.Join(cache, "models--org--tiny-bert")

	dir, err := Resolve(context.Background(), "org/tiny-bert@v1", f.opts())
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(repoDir, "snapshots", commit1), dir)
	assert.JSONEq(t, `{"hidden_size": 8, "v": 1}`, string(readSnap(t, dir, "config.json")))
	ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "v1"))
	require.NoError(t, err)
	assert.Equal(t, commit1, string(ref))

	o := f.opts()
	o.Revision = commit2
	dir, err = Resolve(context.Background(), "org/tiny-bert", o)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(repoDir, "snapshots", commit2), dir)
	_, err = os.Stat(filepath.Join(repoDir, "refs", commit2))
	assert.True(t, os.IsNotExist(err), "a commit revision writes no ref")

	// A cached commit needs no request at all.
	heads := f.heads
	_, err = Resolve(context.Background(), "org/tiny-bert@"+commit2, f.opts())
	require.NoError(t, err)
	assert.Equal(t, heads, f.heads)
}

func TestResolveOffline(t *testing.T) {
	env(t)
	f := newFakeHub(t)
	_, err := Resolve(context.Background(), "org/tiny-bert", Options{Endpoint: f.hub.URL, Offline: true})
	require.ErrorContains(t, err, "offline mode (HF_HUB_OFFLINE=1): org/tiny-bert@main is not in the cache")

	want, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.NoError(t, err)
	f.hub.Close()
	f.cdn.Close()
	t.Setenv("HF_HUB_OFFLINE", "1")
	got, err := Resolve(context.Background(), "org/tiny-bert", Options{Endpoint: f.hub.URL})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	got, err = Resolve(context.Background(), "org/tiny-bert@"+commit2, Options{})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, err = Resolve(context.Background(), "org/tiny-bert@v1", Options{})
	assert.ErrorContains(t, err, "org/tiny-bert@v1 is not in the cache")
	_, err = Resolve(context.Background(), "org/tiny-bert", Options{Files: []File{{Name: "extra.bin"}}})
	assert.ErrorContains(t, err, "extra.bin is not in the cache")
}

func TestResolveUnreachableHubUsesCache(t *testing.T) {
	env(t)
	f := newFakeHub(t)
	want, err := Resolve(context.Background(), "org/tiny-bert", f.opts())
	require.NoError(t, err)
	f.hub.Close()
	var log bytes.Buffer
	o := f.opts()
	o.Progress = &log
	got, err := Resolve(context.Background(), "org/tiny-bert", o)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Contains(t, log.String(), "using cached")

	_, err = Resolve(context.Background(), "org/tiny-bert@v1", o)
	assert.Error(t, err)
}

func TestResolveProgress(t *testing.T) {
	env(t)
	f := newFakeHub(t)
	var log bytes.Buffer
	o := f.opts()
	o.Progress = &log
	_, err := Resolve(context.Background(), "org/tiny-bert", o)
	require.NoError(t, err)
	assert.Regexp(t, `model\.safetensors  200\.0 kB / 200\.0 kB  100%  .*B/s`, log.String())
	assert.Contains(t, log.String(), "config.json")
	log.Reset()
	_, err = Resolve(context.Background(), "org/tiny-bert", o)
	require.NoError(t, err)
	assert.Contains(t, log.String(), "model.safetensors: cached (200.0 kB)")
}

func TestParseRepoID(t *testing.T) {
	for _, tc := range []struct {
		in, repo, rev string
		ok            bool
	}{
		{"bert-base-multilingual-cased", "bert-base-multilingual-cased", "", true},
		{"pucpr/biobertpt-all", "pucpr/biobertpt-all", "", true},
		{"pucpr/biobertpt-all@v1.0", "pucpr/biobertpt-all", "v1.0", true},
		{"org/name@refs/pr/1", "org/name", "refs/pr/1", true},
		{"org/name@", "", "", false},
		{"a/b/c", "", "", false},
		{"org--x/name", "", "", false},
		{"org/na..me", "", "", false},
		{"/abs/path", "", "", false},
		{"org/name@../x", "", "", false},
		{"", "", "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			repo, rev, err := ParseRepoID(tc.in)
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.repo, repo)
			assert.Equal(t, tc.rev, rev)
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"zero", Options{}, ""},
		{"bad endpoint", Options{Endpoint: "ftp://x"}, "invalid endpoint"},
		{"negative timeout", Options{EtagTimeout: -1}, "EtagTimeout"},
		{"negative download timeout", Options{DownloadTimeout: -1}, "DownloadTimeout"},
		{"negative retries", Options{Retries: -1}, "Retries"},
		{"bad file", Options{Files: []File{{Name: "../etc/passwd"}}}, "Files[0]"},
		{"bad fallback", Options{Files: []File{{Name: "a", Fallbacks: []string{""}}}}, "Files[0]"},
		{"bad revision", Options{Revision: "../x"}, "invalid revision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.want == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.want)
			}
		})
	}
}

func TestCacheDir(t *testing.T) {
	env(t)
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "/data/hf")
	d, err := CacheDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/data/hf", "hub"), d)
	t.Setenv("HF_HUB_CACHE", "/fast/cache")
	d, err = CacheDir()
	require.NoError(t, err)
	assert.Equal(t, "/fast/cache", d)
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	d, err = CacheDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join("/home/u", ".cache", "huggingface", "hub"), d)
	assert.Equal(t, "models--org--name", RepoFolderName("org/name"))
}

func TestVerifyGitSHA1(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	b := []byte("hello\n")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	// git hash-object of "hello\n".
	assert.NoError(t, verify(p, "ce013625030ba8dba906f756967f9e9ca394464a", 6))
	assert.ErrorContains(t, verify(p, "ce013625030ba8dba906f756967f9e9ca394464b", 6), "checksum mismatch: git sha1")
	assert.ErrorContains(t, verify(p, "opaque", 7), "size mismatch")
	assert.NoError(t, verify(p, "opaque", -1))
}
