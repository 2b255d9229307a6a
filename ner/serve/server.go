package serve

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/biobertpt-go/biobertpt/ner"
)

// Server answers the HTTP API of docs/SERVE.md. It is an http.Handler;
// create it with New and Close it after the http.Server that uses it has
// shut down.
type Server struct {
	o        Options
	models   map[string]*served
	order    []*served
	m        *metrics
	metricsH http.Handler
	tokens   [][sha256.Size]byte
	reqSeq   atomic.Uint64
	nerReqs  atomic.Int64 // POST /v1/ner requests being answered
	draining atomic.Bool
	closed   atomic.Bool
	closeMu  sync.Once
}

// served is one model with a batcher per tagger.
type served struct {
	name     string
	taggers  []Tagger
	infos    []ner.TaggerInfo
	batchers []*batcher
}

// New starts a batcher per tagger of every model. The models stay the
// caller's: Close stops the batchers, not the taggers.
func New(o Options) (*Server, error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s := &Server{o: o, models: map[string]*served{}, m: newMetrics()}
	s.metricsH = promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{})
	for _, t := range o.Tokens {
		s.tokens = append(s.tokens, sha256.Sum256([]byte(t)))
	}
	for _, m := range o.Models {
		sv := &served{name: m.Name, taggers: m.Taggers}
		for i, tg := range m.Taggers {
			info := tg.Info()
			sv.infos = append(sv.infos, info)
			group := strings.Join(info.Types, ",")
			sv.batchers = append(sv.batchers, newBatcher(tg, i, m.Name, group, o, s.m, s.nerReqs.Load))
		}
		s.models[m.Name] = sv
		s.order = append(s.order, sv)
	}
	return s, nil
}

// Drain makes /readyz answer 503 so that a load balancer stops sending
// requests; requests still arriving are answered.
func (s *Server) Drain() { s.draining.Store(true) }

// Close stops the batchers: documents still queued are answered 503
// (shutting_down) and the batches running finish first. Later requests
// to /v1/ner get 503. Close the http.Server first (http.Server.Shutdown
// waits for requests in flight).
func (s *Server) Close() error {
	s.closeMu.Do(func() {
		s.draining.Store(true)
		s.closed.Store(true)
		for _, sv := range s.order {
			for _, b := range sv.batchers {
				b.close()
			}
		}
	})
	return nil
}

// ServeHTTP routes a request (docs/SERVE.md lists the endpoints).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID(r.Header.Get("X-Request-ID"))
	w.Header().Set("X-Request-ID", id)
	rw := &recorder{ResponseWriter: w}
	info := &accessInfo{}
	handler := route(r.URL.Path)
	s.m.inFlight.Inc()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			if !rw.wrote {
				writeError(rw, http.StatusInternalServerError, "internal", "internal error")
			}
			info.err = fmt.Sprint(v)
		}
		s.m.inFlight.Dec()
		status := rw.status
		if status == 0 {
			status = statusClientClosed
		}
		s.m.requests.WithLabelValues(handler, strconv.Itoa(status)).Inc()
		s.m.latency.WithLabelValues(handler).Observe(time.Since(start).Seconds())
		s.log(r, id, status, rw.bytes, info, time.Since(start))
	}()
	switch r.URL.Path {
	case "/healthz":
		if allow(rw, r, http.MethodGet) {
			writeJSON(rw, http.StatusOK, map[string]string{"status": "ok"})
		}
	case "/readyz":
		if allow(rw, r, http.MethodGet) {
			s.readyz(rw)
		}
	case "/metrics":
		if allow(rw, r, http.MethodGet) && s.authorized(rw, r) {
			s.metricsH.ServeHTTP(rw, r)
		}
	case "/v1/models":
		if allow(rw, r, http.MethodGet) && s.authorized(rw, r) {
			s.listModels(rw)
		}
	case "/v1/ner":
		if allow(rw, r, http.MethodPost) && s.authorized(rw, r) {
			s.nerReqs.Add(1)
			defer s.nerReqs.Add(-1)
			s.ner(rw, r, info)
		}
	default:
		writeError(rw, http.StatusNotFound, "not_found", fmt.Sprintf("no endpoint %s", r.URL.Path))
	}
}

// statusClientClosed is logged and counted for a request whose client
// went away before it was answered (nginx's 499).
const statusClientClosed = 499

func route(path string) string {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/v1/models", "/v1/ner":
		return path
	}
	return "other"
}

func allow(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method || method == http.MethodGet && r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", method)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s %s: want %s", r.Method, r.URL.Path, method))
	return false
}

// authorized checks the bearer token when tokens are configured; it
// answers 401 itself.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if len(s.tokens) == 0 {
		return true
	}
	h := r.Header.Get("Authorization")
	const prefix = "bearer "
	if len(h) > len(prefix) && strings.EqualFold(h[:len(prefix)], prefix) {
		// Compare digests, so that the time taken tells nothing about the
		// tokens' lengths or contents; check every token.
		got := sha256.Sum256([]byte(strings.TrimSpace(h[len(prefix):])))
		ok := 0
		for _, t := range s.tokens {
			ok |= subtle.ConstantTimeCompare(got[:], t[:])
		}
		if ok == 1 {
			return true
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="biobertpt"`)
	writeError(w, http.StatusUnauthorized, "unauthorized", "missing or invalid bearer token")
	return false
}

func (s *Server) readyz(w http.ResponseWriter) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
		return
	}
	names := make([]string, len(s.order))
	for i, sv := range s.order {
		names[i] = sv.name
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "models": names})
}

// ModelInfo is one entry of GET /v1/models.
type ModelInfo struct {
	Name        string      `json:"name"`
	Default     bool        `json:"default"`
	Labels      []string    `json:"labels"`
	EntityTypes []string    `json:"entity_types"`
	Scheme      string      `json:"scheme"`
	MaxLength   int         `json:"max_length"`
	Splitter    string      `json:"splitter"`
	Groups      []GroupInfo `json:"groups,omitempty"`
}

// GroupInfo describes one tagger of a model made of several.
type GroupInfo struct {
	Labels      []string `json:"labels"`
	EntityTypes []string `json:"entity_types"`
}

// Models describes the served models, the default first.
func (s *Server) Models() []ModelInfo {
	out := make([]ModelInfo, 0, len(s.order))
	for i, sv := range s.order {
		mi := ModelInfo{Name: sv.name, Default: i == 0, Labels: []string{}, EntityTypes: []string{}}
		schemes, splitters := []string{}, []string{}
		for _, info := range sv.infos {
			mi.Labels = appendNew(mi.Labels, info.Labels...)
			mi.EntityTypes = appendNew(mi.EntityTypes, info.Types...)
			schemes = appendNew(schemes, info.Scheme.String())
			splitters = appendNew(splitters, info.Splitter)
			if mi.MaxLength == 0 || info.MaxLen < mi.MaxLength {
				mi.MaxLength = info.MaxLen
			}
			if len(sv.infos) > 1 {
				mi.Groups = append(mi.Groups, GroupInfo{Labels: info.Labels, EntityTypes: info.Types})
			}
		}
		slices.Sort(mi.EntityTypes)
		mi.Scheme, mi.Splitter = strings.Join(schemes, ","), strings.Join(splitters, ",")
		out = append(out, mi)
	}
	return out
}

func appendNew(dst []string, vs ...string) []string {
	for _, v := range vs {
		if !slices.Contains(dst, v) {
			dst = append(dst, v)
		}
	}
	return dst
}

func (s *Server) listModels(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{"models": s.Models()})
}

// accessInfo is what a handler adds to the access log.
type accessInfo struct {
	model     string
	documents int
	chars     int
	bytesIn   int64
	err       string
}

func (s *Server) log(r *http.Request, id string, status int, bytesOut int64, info *accessInfo, d time.Duration) {
	if s.o.Logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.String("id", id),
		slog.String("method", r.Method),
		slog.String("path", route(r.URL.Path)),
		slog.Int("status", status),
		slog.Int64("bytes_in", info.bytesIn),
		slog.Int64("bytes_out", bytesOut),
		slog.Float64("duration_ms", math.Round(d.Seconds()*1e6)/1e3),
	}
	if info.model != "" {
		attrs = append(attrs, slog.String("model", info.model), slog.Int("documents", info.documents), slog.Int("chars", info.chars))
	}
	if info.err != "" {
		attrs = append(attrs, slog.String("error", info.err))
	}
	level := slog.LevelInfo
	if status >= 500 && status != statusClientClosed {
		level = slog.LevelError
	}
	s.o.Logger.LogAttrs(r.Context(), level, "request", attrs...)
}

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID returns the client's id when it is safe to echo and log, else
// a new random one.
func requestID(client string) string {
	if requestIDRe.MatchString(client) {
		return client
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	return hex.EncodeToString(b[:])
}

// recorder remembers a response's status and size.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// apiError is the body of every error answer.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{errorBody{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // the answer types always marshal
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encode answer"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// sortEntities orders a document's entities by start, end and type.
func sortEntities(es []ner.Entity) {
	slices.SortStableFunc(es, func(a, b ner.Entity) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), strings.Compare(a.Type, b.Type))
	})
}

// errShuttingDown is the message of a 503 after Close.
var errShuttingDown = errors.New("the server is shutting down")

// ctxDone reports whether ctx has ended.
func ctxDone(ctx context.Context) bool { return ctx.Err() != nil }
