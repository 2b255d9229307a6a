package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultEndpoint is the Hub used when neither Options.Endpoint nor
// HF_ENDPOINT is set.
const DefaultEndpoint = "https://huggingface.co"

// DefaultRevision is the revision used when none is given.
const DefaultRevision = "main"

// File is one file to fetch from a repository.
type File struct {
	// Name is the path of the file inside the repository, e.g. "config.json".
	Name string
	// Fallbacks are tried in order when Name does not exist in the repository
	// (HTTP 404), e.g. "pytorch_model.bin" for "model.safetensors".
	Fallbacks []string
	// Optional skips the file when neither Name nor a fallback exists;
	// otherwise a missing file is an error naming the repository and file.
	Optional bool
}

// BERTFiles is the default file set, what a BERT model directory needs:
// config.json and the weights (model.safetensors, else pytorch_model.bin)
// are required; the tokenizer files are optional.
func BERTFiles() []File {
	return []File{
		{Name: "config.json"},
		{Name: "vocab.txt", Optional: true},
		{Name: "tokenizer_config.json", Optional: true},
		{Name: "tokenizer.json", Optional: true},
		{Name: "special_tokens_map.json", Optional: true},
		{Name: "model.safetensors", Fallbacks: []string{"pytorch_model.bin"}},
	}
}

// Options configures Resolve. The zero value is valid: every zero field
// takes its default, most of them from the environment as huggingface_hub
// does.
type Options struct {
	// Files to fetch; nil means BERTFiles().
	Files []File
	// Revision is a branch, tag or commit hash; "" means "main". A name of
	// the form "org/name@revision" overrides it.
	Revision string
	// Endpoint is the Hub's base URL; "" means $HF_ENDPOINT, else
	// DefaultEndpoint.
	Endpoint string
	// Token is sent as "Authorization: Bearer <token>" to the endpoint's host;
	// "" means $HF_TOKEN (no header when both are empty).
	Token string
	// Offline uses the cache only, without any request; false still honours
	// HF_HUB_OFFLINE=1.
	Offline bool
	// CacheDir is the hub cache; "" means $HF_HUB_CACHE, else $HF_HOME/hub,
	// else ~/.cache/huggingface/hub.
	CacheDir string
	// EtagTimeout bounds each metadata (HEAD) request; 0 means
	// $HF_HUB_ETAG_TIMEOUT seconds, else 10 s.
	EtagTimeout time.Duration
	// DownloadTimeout is the longest wait for a download's response headers
	// or its next bytes before the transfer is abandoned (and resumable);
	// 0 means $HF_HUB_DOWNLOAD_TIMEOUT seconds, else 10 s.
	DownloadTimeout time.Duration
	// Retries is how many times an interrupted download is resumed within
	// one call; 0 (the default) means none: the partial file stays in the
	// cache and the next call resumes it.
	Retries int
	// Progress receives a progress line per file (name, bytes, percentage,
	// speed), redrawn with carriage returns when it is a terminal; nil is
	// silent.
	Progress io.Writer
	// Client performs the requests; nil means a new http.Client. Its
	// CheckRedirect is replaced by this package's redirect rules.
	Client *http.Client
}

// Validate reports the first invalid field.
func (o Options) Validate() error {
	if o.Revision != "" {
		if err := validRevision(o.Revision); err != nil {
			return err
		}
	}
	if o.Endpoint != "" {
		if err := validEndpoint(o.Endpoint); err != nil {
			return err
		}
	}
	if o.EtagTimeout < 0 {
		return fmt.Errorf("hub: options: EtagTimeout %v is negative", o.EtagTimeout)
	}
	if o.DownloadTimeout < 0 {
		return fmt.Errorf("hub: options: DownloadTimeout %v is negative", o.DownloadTimeout)
	}
	if o.Retries < 0 {
		return fmt.Errorf("hub: options: Retries %d is negative", o.Retries)
	}
	for i, f := range o.Files {
		for _, n := range append([]string{f.Name}, f.Fallbacks...) {
			if err := validFileName(n); err != nil {
				return fmt.Errorf("hub: options: Files[%d]: %w", i, err)
			}
		}
	}
	return nil
}

func validRevision(rev string) error {
	if strings.Contains(rev, "..") || strings.HasPrefix(rev, "/") || strings.ContainsAny(rev, "\\\x00") {
		return fmt.Errorf("hub: invalid revision %q", rev)
	}
	return nil
}

func validEndpoint(e string) error {
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("hub: invalid endpoint %q: want http(s)://host", e)
	}
	return nil
}

func validFileName(n string) error {
	if n == "" || strings.HasPrefix(n, "/") || strings.Contains(n, "\\") || strings.Contains(n, "\x00") {
		return fmt.Errorf("invalid file name %q", n)
	}
	for _, seg := range strings.Split(n, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid file name %q", n)
		}
	}
	return nil
}

// settings is Options with every default applied.
type settings struct {
	files           []File
	endpoint        *url.URL
	token           string
	offline         bool
	cacheDir        string
	etagTimeout     time.Duration
	downloadTimeout time.Duration
	retries         int
	progress        io.Writer
	client          *http.Client
}

func (o Options) settings() (settings, error) {
	s := settings{files: o.Files, token: o.Token, offline: o.Offline, cacheDir: o.CacheDir,
		etagTimeout: o.EtagTimeout, downloadTimeout: o.DownloadTimeout, retries: o.Retries,
		progress: o.Progress}
	if s.files == nil {
		s.files = BERTFiles()
	}
	ep := o.Endpoint
	if ep == "" {
		ep = os.Getenv("HF_ENDPOINT")
	}
	if ep == "" {
		ep = DefaultEndpoint
	}
	if err := validEndpoint(ep); err != nil {
		return s, err
	}
	s.endpoint, _ = url.Parse(strings.TrimRight(ep, "/"))
	if s.token == "" {
		s.token = strings.TrimSpace(os.Getenv("HF_TOKEN"))
	}
	if !s.offline {
		s.offline = truthy(os.Getenv("HF_HUB_OFFLINE"))
	}
	if s.cacheDir == "" {
		c, err := CacheDir()
		if err != nil {
			return s, err
		}
		s.cacheDir = c
	}
	var err error
	if s.etagTimeout == 0 {
		if s.etagTimeout, err = envSeconds("HF_HUB_ETAG_TIMEOUT", 10*time.Second); err != nil {
			return s, err
		}
	}
	if s.downloadTimeout == 0 {
		if s.downloadTimeout, err = envSeconds("HF_HUB_DOWNLOAD_TIMEOUT", 10*time.Second); err != nil {
			return s, err
		}
	}
	base := o.Client
	if base == nil {
		base = &http.Client{}
	}
	c := *base // copy: CheckRedirect is set per request kind
	s.client = &c
	return s, nil
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func envSeconds(name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("hub: %s=%q: want a positive number of seconds", name, v)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// CacheDir returns the hub cache directory as huggingface_hub computes it:
// $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub
// (with $XDG_CACHE_HOME in place of ~/.cache when set).
func CacheDir() (string, error) {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return expandHome(d)
	}
	if h := os.Getenv("HF_HOME"); h != "" {
		h, err := expandHome(h)
		return filepath.Join(h, "hub"), err
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface", "hub"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("hub: cache directory: set HF_HOME: %w", err)
	}
	return filepath.Join(home, ".cache", "huggingface", "hub"), nil
}

func expandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("hub: expand %q: %w", p, err)
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~")), nil
}

// repoIDPattern is huggingface_hub's validate_repo_id: an optional
// namespace and a name of word characters, '-' and '.'.
var repoIDPattern = regexp.MustCompile(`^(?:[\w\-.]+/)?[\w\-.]+$`)

var commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ParseRepoID splits "org/name@revision" (or "name", "org/name") into the
// repository id and the revision ("" when absent) and validates the id as
// huggingface_hub does: at most one '/', letters, digits, '_', '-', '.',
// no "--" or "..", at most 96 characters.
func ParseRepoID(s string) (repo, revision string, err error) {
	repo = s
	if i := strings.Index(s, "@"); i >= 0 {
		repo, revision = s[:i], s[i+1:]
		if revision == "" {
			return "", "", fmt.Errorf("hub: %q: empty revision after '@'", s)
		}
		if err := validRevision(revision); err != nil {
			return "", "", err
		}
	}
	if repo == "" || len(repo) > 96 || !repoIDPattern.MatchString(repo) ||
		strings.Contains(repo, "--") || strings.Contains(repo, "..") ||
		strings.HasPrefix(repo, ".") || strings.HasSuffix(repo, ".") ||
		strings.HasPrefix(repo, "-") || strings.HasSuffix(repo, "-") {
		return "", "", fmt.Errorf("hub: %q is neither a local directory nor a Hub repository id (org/name[@revision])", s)
	}
	return repo, revision, nil
}

// modelDir returns dir, or the model directory of a training run's output
// directory dir (RunModelDirs).
func modelDir(dir string) string {
	if isFile(filepath.Join(dir, "config.json")) {
		return dir
	}
	for _, sub := range RunModelDirs {
		if d := filepath.Join(dir, sub); isFile(filepath.Join(d, "config.json")) {
			return d
		}
	}
	return dir
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// RepoFolderName is the cache folder of a model repository:
// "models--" + the id with '/' replaced by "--".
func RepoFolderName(repo string) string {
	return "models--" + strings.ReplaceAll(repo, "/", "--")
}

// RunModelDirs are the model directories inside a training run's output
// directory that Resolve looks for, in order: pretraining's final model,
// then NER fine-tuning's best one.
var RunModelDirs = []string{"final", "best"}

// Resolve returns the local model directory that nameOrDir names, the one
// place a model name becomes a directory:
//
//   - a model directory (config.json inside): itself;
//   - a training run's output directory (no config.json of its own): its
//     first RunModelDirs entry holding a config.json, else itself (loading
//     then reports what is missing);
//   - otherwise a Hub repository id ("org/name", "name", optionally
//     "@revision"): its snapshot directory in the HuggingFace cache, after
//     downloading o.Files there; ctx cancels the requests.
func Resolve(ctx context.Context, nameOrDir string, o Options) (dir string, err error) {
	if nameOrDir == "" {
		return "", errors.New("hub: empty model name")
	}
	if st, err := os.Stat(nameOrDir); err == nil {
		if !st.IsDir() {
			return "", fmt.Errorf("hub: %s is a file, want a model directory or a Hub repository id", nameOrDir)
		}
		return modelDir(nameOrDir), nil
	}
	if err := o.Validate(); err != nil {
		return "", err
	}
	repo, rev, err := ParseRepoID(nameOrDir)
	if err != nil {
		return "", err
	}
	if rev == "" {
		rev = o.Revision
	}
	if rev == "" {
		rev = DefaultRevision
	}
	s, err := o.settings()
	if err != nil {
		return "", err
	}
	d := &downloader{s: s, repo: repo, revision: rev,
		repoDir: filepath.Join(s.cacheDir, RepoFolderName(repo))}
	if s.offline {
		return d.cached("offline mode (HF_HUB_OFFLINE=1)")
	}
	dir, err = d.download(ctx)
	var ne *networkError
	if err != nil && errors.As(err, &ne) && ctx.Err() == nil {
		// The Hub is unreachable: huggingface_hub falls back to the cache.
		if cdir, cerr := d.cached("Hub unreachable"); cerr == nil {
			if s.progress != nil {
				fmt.Fprintf(s.progress, "hub: %v; using cached %s\n", err, cdir)
			}
			return cdir, nil
		}
	}
	return dir, err
}

// cached resolves the repository from the cache alone; why says why the
// network is not used, for the error message.
func (d *downloader) cached(why string) (string, error) {
	commit := d.revision
	if !commitPattern.MatchString(commit) {
		b, err := os.ReadFile(filepath.Join(d.repoDir, "refs", filepath.FromSlash(d.revision)))
		if err != nil {
			return "", fmt.Errorf("hub: %s: %s@%s is not in the cache %s: download it once online (unset HF_HUB_OFFLINE)",
				why, d.repo, d.revision, d.s.cacheDir)
		}
		commit = strings.TrimSpace(string(b))
	}
	snap := filepath.Join(d.repoDir, "snapshots", commit)
	for _, f := range d.s.files {
		found := false
		for _, n := range append([]string{f.Name}, f.Fallbacks...) {
			if _, err := os.Stat(filepath.Join(snap, filepath.FromSlash(n))); err == nil {
				found = true
				break
			}
		}
		if !found && !f.Optional {
			return "", fmt.Errorf("hub: %s: %s@%s: %s is not in the cache %s",
				why, d.repo, d.revision, f.Name, snap)
		}
	}
	return snap, nil
}
