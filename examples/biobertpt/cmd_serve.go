package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/ner/serve"
)

func init() {
	register(command{name: "serve", summary: "HTTP NER service: POST /v1/ner, /v1/models, /healthz, /readyz, /metrics", run: runServe})
}

const serveUsage = `-model [NAME=]DIR [-model NAME=DIR ...] [-addr 127.0.0.1:8080] [flags]

Serves the models over HTTP until SIGTERM or SIGINT, then stops accepting
connections, finishes the requests in flight within -shutdown-timeout and
exits 0. The first -model answers requests that name none. DIR is a model
directory (train-ner's OUT/best), or a directory of per-group models
(train-ner -group all's OUT, ner-semclinbr's OUT): such a model answers
with every group's entities. API: POST /v1/ner {"text": "..."} |
{"texts": [...]} | {"documents": [{"id", "text"}]} [, "model": NAME];
GET /v1/models, /healthz, /readyz, /metrics (docs/openapi.yaml). The
access log (JSON lines on stderr) never contains texts.`

// modelFlags collects repeated -model values.
type modelFlags []string

func (m *modelFlags) String() string     { return strings.Join(*m, ",") }
func (m *modelFlags) Set(v string) error { *m = append(*m, v); return nil }

func runServe(e *env, args []string) error {
	ctx, stop := signalContext(context.Background())
	defer stop()
	return serveCommand(ctx, e, args, nil)
}

// signalContext returns ctx, ended by SIGTERM or SIGINT as well.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
}

// serveCommand runs the serve command until ctx ends; ready, when not nil,
// is called with the server's base URL once it accepts connections.
func serveCommand(ctx context.Context, e *env, args []string, ready func(url string)) error {
	fs := newFlags(e, "serve", serveUsage)
	var models modelFlags
	fs.Var(&models, "model", "[NAME=]DIR of a model to serve (repeatable; NAME defaults to DIR's last element)")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one); the default is loopback only")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	batch := fs.Int("batch", 32, "windows per forward pass")
	maxLen := fs.Int("max-len", 0, "window length in sub-tokens (0 = 256, capped at the model's maximum)")
	d := serve.DefaultOptions()
	maxTokens := fs.Int("max-batch-tokens", d.MaxBatchTokens, "sub-tokens of documents packed into one batch")
	maxWait := fs.Duration("max-batch-wait", d.MaxBatchWait, "longest wait of a batch's first document for others (0: none)")
	noBatching := fs.Bool("no-batching", false, "tag each request alone, never packed with others (for comparison)")
	maxQueue := fs.Int("max-queue", d.MaxQueue, "documents waiting per model before requests get 503")
	maxBody := fs.Int64("max-body", d.MaxBodyBytes, "largest request body in bytes (413 beyond)")
	maxChars := fs.Int("max-chars", d.MaxChars, "most characters of one text (413 beyond)")
	maxDocs := fs.Int("max-docs", d.MaxDocuments, "most documents of one request (413 beyond)")
	tokenFile := fs.String("token-file", "", "file of accepted bearer tokens, one a line (# comments); enables authentication of /v1/ and /metrics")
	tlsCert := fs.String("tls-cert", "", "TLS certificate (PEM); with -tls-key, serve HTTPS")
	tlsKey := fs.String("tls-key", "", "TLS private key (PEM)")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long requests in flight may take to finish after SIGTERM/SIGINT")
	logFormat := fs.String("log-format", "json", "access log on stderr: json, text or none")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("batch", 1), cli.ZeroOrAtLeast("max-len", 3), cli.AtLeast("max-batch-tokens", 1),
		cli.AtLeast("max-batch-wait", 0), cli.AtLeast("max-queue", 1), cli.AtLeast("max-body", 1), cli.AtLeast("max-chars", 1),
		cli.AtLeast("max-docs", 1), cli.Check("max-docs", func(v any) error {
			if n, _ := v.(int); n > *maxQueue {
				return fmt.Errorf("want <= -max-queue (%d)", *maxQueue)
			}
			return nil
		}),
		cli.Above("shutdown-timeout", 0), cli.OneOf("log-format", "json", "text", "none"), cli.Device("device")); err != nil {
		return err
	}
	switch {
	case len(models) == 0 || fs.NArg() > 0:
		return usagef("serve %s", serveUsage)
	case (*tlsCert == "") != (*tlsKey == ""):
		return usagef("-tls-cert and -tls-key go together")
	}
	var handler slog.Handler
	switch *logFormat {
	case "json":
		handler = slog.NewJSONHandler(e.stderr, nil)
	case "text":
		handler = slog.NewTextHandler(e.stderr, nil)
	case "none":
		handler = slog.NewTextHandler(io.Discard, nil)
	default:
		return usagef("-log-format %q: want json, text or none", *logFormat)
	}
	logger := slog.New(handler)

	o := d
	o.MaxBatchTokens, o.MaxBatchWait, o.NoBatching, o.MaxQueue = *maxTokens, *maxWait, *noBatching, *maxQueue
	if *maxWait == 0 {
		o.MaxBatchWait = -1 // Options: negative is no wait
	}
	o.MaxBodyBytes, o.MaxChars, o.MaxDocuments, o.Logger = *maxBody, *maxChars, *maxDocs, logger
	if *tokenFile != "" {
		toks, err := readTokenFile(*tokenFile, logger)
		if err != nil {
			return err
		}
		o.Tokens = toks
	}
	var cert tls.Certificate
	if *tlsCert != "" {
		var err error
		if cert, err = tls.LoadX509KeyPair(*tlsCert, *tlsKey); err != nil {
			return fmt.Errorf("serve: TLS: %w", err)
		}
	}

	to := ner.TaggerOptions{Device: *device, BatchSize: *batch, MaxLen: *maxLen}
	defer func() {
		for _, m := range o.Models {
			m.Close()
		}
	}()
	for _, v := range models {
		name, dir, err := serve.ParseModelFlag(v)
		if err != nil {
			return usagef("-model %v", err)
		}
		m, err := serve.LoadModel(name, dir, to)
		if err != nil {
			return err
		}
		o.Models = append(o.Models, m)
		logger.Info("model loaded", "name", name, "dir", dir, "taggers", len(m.Taggers))
	}
	srv, err := serve.New(o)
	if err != nil {
		return usagef("%v", err)
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: listen: %w", err)
	}
	scheme := "http"
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	if *tlsCert != "" {
		scheme = "https"
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, hs.TLSConfig)
	}
	url := scheme + "://" + ln.Addr().String()
	if !isLoopback(ln.Addr()) {
		logger.Warn("listening beyond loopback: clinical text crosses the network", "addr", ln.Addr().String(),
			"tls", *tlsCert != "", "auth", len(o.Tokens) > 0)
	}
	logger.Info("serving", "url", url, "models", len(o.Models))
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	if ready != nil {
		ready(url)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", shutdownTimeout.String())
	srv.Drain()
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("serve: shutdown: requests still running after -shutdown-timeout %v were cut off: %w", *shutdownTimeout, err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// readTokenFile reads bearer tokens, one a line; blank lines and lines
// starting with # are skipped. A file that others may read is accepted
// with a warning.
func readTokenFile(path string, logger *slog.Logger) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("serve: -token-file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&0o077 != 0 {
		logger.Warn("token file is readable by others; chmod 600 it", "path", path, "mode", st.Mode().Perm().String())
	}
	var toks []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("serve: -token-file %s:%d: a token may not contain white space", path, n)
		}
		toks = append(toks, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("serve: -token-file %s: %w", path, err)
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("serve: -token-file %s: no token in it", path)
	}
	return toks, nil
}

// isLoopback reports whether a listener's address is a loopback address.
func isLoopback(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
