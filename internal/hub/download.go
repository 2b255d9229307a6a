package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
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

const userAgent = "biobertpt-go/hub"

// downloader fetches the files of one repository at one revision.
type downloader struct {
	s        settings
	repo     string
	revision string // as asked: branch, tag or commit
	repoDir  string // cache folder of the repository
	commit   string // set by the first metadata answer
}

// networkError marks a failure to reach the server (no HTTP answer).
type networkError struct{ err error }

func (e *networkError) Error() string { return e.err.Error() }
func (e *networkError) Unwrap() error { return e.err }

// statusError is an HTTP answer that is not a success.
type statusError struct {
	code int
	url  string
}

func (e *statusError) Error() string { return fmt.Sprintf("HTTP %d from %s", e.code, e.url) }

// errEntryNotFound: the repository exists but the file does not.
var errEntryNotFound = errors.New("entry not found")

// errStalled: no byte arrived within DownloadTimeout.
var errStalled = errors.New("download stalled")

// download fetches every file and returns the snapshot directory.
func (d *downloader) download(ctx context.Context) (string, error) {
	if commitPattern.MatchString(d.revision) {
		d.commit = d.revision
	}
	for _, f := range d.s.files {
		names := append([]string{f.Name}, f.Fallbacks...)
		found := false
		for _, n := range names {
			err := d.fetch(ctx, n)
			if errors.Is(err, errEntryNotFound) {
				continue
			}
			if err != nil {
				return "", err
			}
			found = true
			break
		}
		if !found && !f.Optional {
			return "", fmt.Errorf("hub: %s@%s: %s not found in the repository (HTTP 404)",
				d.repo, d.revision, strings.Join(names, " or "))
		}
	}
	if d.commit == "" {
		// Every file was optional and absent: nothing tells the commit.
		return "", fmt.Errorf("hub: %s@%s: none of the requested files exists", d.repo, d.revision)
	}
	snap := filepath.Join(d.repoDir, "snapshots", d.commit)
	if err := os.MkdirAll(snap, 0o755); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	if d.revision != d.commit {
		ref := filepath.Join(d.repoDir, "refs", filepath.FromSlash(d.revision))
		if err := writeFileAtomic(ref, []byte(d.commit)); err != nil {
			return "", fmt.Errorf("hub: write ref: %w", err)
		}
	}
	return snap, nil
}

// fileURL is {endpoint}/{repo}/resolve/{revision}/{file}, the revision
// escaped as one path segment as huggingface_hub's hf_hub_url does.
func (d *downloader) fileURL(rev, name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return d.s.endpoint.String() + "/" + d.repo + "/resolve/" + url.PathEscape(rev) + "/" + strings.Join(segs, "/")
}

// metadata is what a HEAD on a resolve URL tells.
type metadata struct {
	commit   string
	etag     string
	size     int64 // -1 when unknown
	location string
}

// fetch makes snapshots/<commit>/<name> point at a verified blob; it
// returns errEntryNotFound when the repository has no such file.
func (d *downloader) fetch(ctx context.Context, name string) error {
	if d.commit != "" {
		// Known commit: a cached file (or a known absence) needs no request.
		if st, err := os.Stat(d.snapshotPath(name)); err == nil {
			if d.s.progress != nil {
				fmt.Fprintf(d.s.progress, "%s: cached (%s)\n", name, humanBytes(st.Size()))
			}
			return nil
		}
		if _, err := os.Stat(filepath.Join(d.repoDir, ".no_exist", d.commit, filepath.FromSlash(name))); err == nil {
			return errEntryNotFound
		}
	}
	rev := d.revision
	if d.commit != "" {
		rev = d.commit // pin every file to the commit of the first answer
	}
	u := d.fileURL(rev, name)
	m, err := d.head(ctx, u)
	if errors.Is(err, errEntryNotFound) && d.commit == "" && commitPattern.MatchString(m.commit) {
		d.commit = m.commit // the Hub names the commit in its 404 too
	}
	if err != nil {
		var se *statusError
		if errors.As(err, &se) || errors.Is(err, errEntryNotFound) {
			return d.explain(name, err)
		}
		return fmt.Errorf("hub: %s@%s: %s: %w", d.repo, d.revision, name, err)
	}
	if m.commit == "" {
		return fmt.Errorf("hub: %s@%s: %s: the server sent no X-Repo-Commit header (is %s a Hub endpoint?)",
			d.repo, d.revision, name, d.s.endpoint)
	}
	if d.commit != "" && m.commit != d.commit {
		return fmt.Errorf("hub: %s@%s: %s: commit changed during the download (%s, then %s)",
			d.repo, d.revision, name, d.commit, m.commit)
	}
	d.commit = m.commit
	if m.etag == "" {
		return fmt.Errorf("hub: %s@%s: %s: the server sent no ETag", d.repo, d.revision, name)
	}
	if strings.ContainsAny(m.etag, "/\\") || strings.Contains(m.etag, "..") {
		return fmt.Errorf("hub: %s@%s: %s: invalid ETag %q", d.repo, d.revision, name, m.etag)
	}
	blob := filepath.Join(d.repoDir, "blobs", m.etag)
	if st, err := os.Stat(blob); err != nil || (m.size >= 0 && st.Size() != m.size) {
		src := u
		if m.location != "" {
			src = m.location
		}
		if err := d.downloadBlob(ctx, name, src, blob, m); err != nil {
			return err
		}
	} else if d.s.progress != nil {
		fmt.Fprintf(d.s.progress, "%s: cached (%s)\n", name, humanBytes(st.Size()))
	}
	if err := symlinkAtomic(blob, d.snapshotPath(name)); err != nil {
		return fmt.Errorf("hub: %s@%s: %s: %w", d.repo, d.revision, name, err)
	}
	return nil
}

func (d *downloader) snapshotPath(name string) string {
	return filepath.Join(d.repoDir, "snapshots", d.commit, filepath.FromSlash(name))
}

// explain turns an HTTP failure of the metadata request into an error that
// says what to do.
func (d *downloader) explain(name string, err error) error {
	if errors.Is(err, errEntryNotFound) {
		if d.commit != "" {
			// Remember the absence, as huggingface_hub does, for offline use.
			_ = writeFileAtomic(filepath.Join(d.repoDir, ".no_exist", d.commit, filepath.FromSlash(name)), nil)
		}
		return errEntryNotFound
	}
	var se *statusError
	errors.As(err, &se)
	switch se.code {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint := "set HF_TOKEN"
		if d.s.token != "" {
			hint = "check that HF_TOKEN has access and that the gate's terms were accepted"
		}
		return fmt.Errorf("hub: %s: repository not found or gated: %s (HTTP %d for %s)", d.repo, hint, se.code, name)
	case http.StatusNotFound:
		return fmt.Errorf("hub: %s: repository or revision %q not found (HTTP 404 for %s)", d.repo, d.revision, name)
	}
	return fmt.Errorf("hub: %s@%s: %s: %w", d.repo, d.revision, name, err)
}

// header returns the headers every request carries; the token only goes to
// the endpoint's own host.
func (d *downloader) authorize(req *http.Request) {
	req.Header.Set("User-Agent", userAgent)
	if d.s.token != "" && req.URL.Host == d.s.endpoint.Host {
		req.Header.Set("Authorization", "Bearer "+d.s.token)
	} else {
		req.Header.Del("Authorization")
	}
}

// head asks for a file's metadata, following relative redirects only.
func (d *downloader) head(ctx context.Context, u string) (metadata, error) {
	ctx, cancel := context.WithTimeout(ctx, d.s.etagTimeout)
	defer cancel()
	c := *d.s.client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	m := metadata{size: -1}
	cur := u
	for hop := 0; ; hop++ {
		if hop > 10 {
			return m, fmt.Errorf("HEAD %s: too many redirects", u)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, cur, nil)
		if err != nil {
			return m, err
		}
		req.Header.Set("Accept-Encoding", "identity")
		d.authorize(req)
		resp, err := c.Do(req)
		if err != nil {
			return m, &networkError{err}
		}
		resp.Body.Close()
		h := resp.Header
		// Later answers win; earlier ones fill what they leave out.
		if v := h.Get("X-Repo-Commit"); v != "" {
			m.commit = v
		}
		if v := h.Get("X-Linked-Etag"); v != "" {
			m.etag = normalizeETag(v)
		} else if v := h.Get("ETag"); v != "" && (m.etag == "" || resp.StatusCode < 300) {
			m.etag = normalizeETag(v)
		}
		if v := h.Get("X-Linked-Size"); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				m.size = n
			}
		} else if resp.StatusCode < 300 && resp.ContentLength >= 0 && m.size < 0 {
			m.size = resp.ContentLength
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc := h.Get("Location")
			if loc == "" {
				return m, fmt.Errorf("HEAD %s: HTTP %d without Location", cur, resp.StatusCode)
			}
			lu, err := url.Parse(loc)
			if err != nil {
				return m, fmt.Errorf("HEAD %s: bad Location %q: %w", cur, loc, err)
			}
			base, _ := url.Parse(cur)
			if lu.Host == "" {
				cur = base.ResolveReference(lu).String() // relative: follow
				continue
			}
			m.location = lu.String() // absolute: the bytes are there
			return m, nil
		case resp.StatusCode == http.StatusNotFound:
			switch h.Get("X-Error-Code") {
			case "", "EntryNotFound":
				return m, errEntryNotFound
			}
			return m, &statusError{code: resp.StatusCode, url: cur}
		case resp.StatusCode >= 400:
			return m, &statusError{code: resp.StatusCode, url: cur}
		}
		return m, nil
	}
}

func normalizeETag(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	return strings.Trim(v, `"`)
}

var (
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	sha1Pattern   = regexp.MustCompile(`^[0-9a-f]{40}$`)
)

// downloadBlob fetches src into blob via blob.incomplete, resuming,
// retrying and verifying as documented in the package comment.
func (d *downloader) downloadBlob(ctx context.Context, name, src, blob string, m metadata) error {
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	inc := blob + ".incomplete"
	for attempt := 0; ; attempt++ {
		err := d.get(ctx, name, src, inc, m.size)
		if err == nil {
			break
		}
		var se *statusError
		if attempt >= d.s.retries || ctx.Err() != nil || errors.As(err, &se) {
			return fmt.Errorf("hub: %s@%s: download %s: %w (partial file kept; run again to resume)",
				d.repo, d.revision, name, err)
		}
	}
	if err := verify(inc, m.etag, m.size); err != nil {
		os.Remove(inc)
		return fmt.Errorf("hub: %s@%s: %s: %w (download removed)", d.repo, d.revision, name, err)
	}
	if err := os.Rename(inc, blob); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return nil
}

// get makes one GET attempt, appending to inc from its current size.
func (d *downloader) get(ctx context.Context, name, src, inc string, size int64) error {
	f, err := os.OpenFile(inc, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	off := st.Size()
	if size >= 0 && off > size {
		off = 0
	}
	if size >= 0 && off == size && size > 0 {
		return nil // complete; verify decides
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(d.s.downloadTimeout, func() { cancel(errStalled) })
	defer timer.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "identity")
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	d.authorize(req)
	c := *d.s.client
	c.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		d.authorize(r) // drops the token when leaving the endpoint's host
		return nil
	}
	resp, err := c.Do(req)
	if err != nil {
		if c := context.Cause(ctx); c != nil && errors.Is(c, errStalled) {
			return fmt.Errorf("no response within %v: %w", d.s.downloadTimeout, errStalled)
		}
		return &networkError{err}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		off = 0 // the server ignored Range: start over
	case http.StatusPartialContent:
		start, err := contentRangeStart(resp.Header.Get("Content-Range"))
		if err != nil || start != off {
			return fmt.Errorf("GET %s: Content-Range %q does not start at %d", src, resp.Header.Get("Content-Range"), off)
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if size < 0 || off == size {
			return nil // nothing left to read; verify decides
		}
		if err := f.Truncate(0); err != nil {
			return err
		}
		return &networkError{fmt.Errorf("GET %s: range from %d not satisfiable: restarting", src, off)}
	default:
		return &statusError{code: resp.StatusCode, url: src}
	}
	if err := f.Truncate(off); err != nil {
		return err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	total := size
	if total < 0 && resp.ContentLength >= 0 {
		total = off + resp.ContentLength
	}
	p := newProgress(d.s.progress, name, off, total)
	buf := make([]byte, 256<<10)
	n := off
	for {
		k, rerr := resp.Body.Read(buf)
		if k > 0 {
			timer.Reset(d.s.downloadTimeout)
			if _, err := f.Write(buf[:k]); err != nil {
				p.done(false)
				return err
			}
			n += int64(k)
			p.update(n)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			p.done(false)
			if c := context.Cause(ctx); c != nil && errors.Is(c, errStalled) {
				return fmt.Errorf("no data for %v after %d bytes: %w", d.s.downloadTimeout, n, errStalled)
			}
			return &networkError{fmt.Errorf("after %d bytes: %w", n, rerr)}
		}
	}
	p.done(true)
	if err := f.Sync(); err != nil {
		return err
	}
	if size >= 0 && n < size {
		return &networkError{fmt.Errorf("connection closed after %d of %d bytes", n, size)}
	}
	return nil
}

func contentRangeStart(v string) (int64, error) {
	// "bytes 100-199/200"
	v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "bytes"))
	i := strings.IndexByte(v, '-')
	if i < 0 {
		return 0, fmt.Errorf("bad Content-Range %q", v)
	}
	return strconv.ParseInt(strings.TrimSpace(v[:i]), 10, 64)
}

// verify checks the file's size and, when the ETag is a content hash, the
// hash: sha256 for LFS files (64 hex digits), the git blob sha1 of
// "blob <size>\x00"+content for git files (40 hex digits).
func verify(path, etag string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if size >= 0 && st.Size() != size {
		return fmt.Errorf("size mismatch: got %d bytes, want %d", st.Size(), size)
	}
	var h hash.Hash
	kind := ""
	switch {
	case sha256Pattern.MatchString(etag):
		h, kind = sha256.New(), "sha256"
	case sha1Pattern.MatchString(etag):
		h, kind = sha1.New(), "git sha1"
		fmt.Fprintf(h, "blob %d\x00", st.Size())
	default:
		return nil // an opaque ETag: the size is all we can check
	}
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != etag {
		return fmt.Errorf("checksum mismatch: %s %s, want %s", kind, got, etag)
	}
	return nil
}

// symlinkAtomic makes link a relative symlink to target, replacing any
// previous link; where symlinks are not allowed it copies the file.
func symlinkAtomic(target, link string) error {
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(link), target)
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp%d", link, time.Now().UnixNano())
	if err := os.Symlink(rel, tmp); err != nil {
		return copyFileAtomic(target, link)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func copyFileAtomic(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeFileAtomic(dst, b)
}

func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
