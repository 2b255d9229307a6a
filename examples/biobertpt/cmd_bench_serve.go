package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sugarme/gotch"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/internal/demodata"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
	"github.com/biobertpt-go/biobertpt/ner"
	"github.com/biobertpt-go/biobertpt/ner/serve"
	"github.com/biobertpt-go/biobertpt/tokenize"
)

func init() {
	register(command{name: "bench-serve", summary: "load-test the NER service on loopback: req/s, p50/p99 latency, RSS over a soak", run: runBenchServe})
}

const benchServeUsage = `-model DIR | -random-config base|tiny [-vocab FILE] [-clients 1,8,32] [-batching on,off] [-requests N] [-duration D] [-soak N] [flags]

Starts the NER service (package ner/serve) in this process on 127.0.0.1 and
sends it POST /v1/ner requests, one demo clinical line (internal/demodata,
or the non-blank lines of -texts) per request, from each number of
concurrent clients in -clients, with batching on and off. Each run stops
after -requests requests or -duration, whichever comes first, after -warmup
requests that are not timed. Prints a Markdown table (one row per run:
requests, req/s, p50 and p99 latency, errors) or JSON lines with -json.
-soak N then sends N more requests (batching on, -soak-clients clients,
at most -soak-duration) and reports the process's resident memory before
and after them. -random-config builds a freshly initialised
token-classification model of that size over -vocab with CLINpt's 13 entity
types (base: BERT-base/mBERT size, 12 layers × 768; tiny: 2 × 32) in a
temporary directory.`

func runBenchServe(e *env, args []string) error {
	fs := newFlags(e, "bench-serve", benchServeUsage)
	model := fs.String("model", "", "model directory (train-ner's OUT/best)")
	randomConfig := fs.String("random-config", "", "base or tiny: a fresh random model instead of -model")
	vocab := fs.String("vocab", "", "vocab.txt of -random-config (default: the demo clinical vocabulary)")
	clientsFlag := fs.String("clients", "1,8,32", "concurrent clients of each run, comma-separated")
	batchingFlag := fs.String("batching", "on,off", "batching of each run: on, off or both")
	requests := fs.Int("requests", 500, "most timed requests per run")
	duration := fs.Duration("duration", 30*time.Second, "longest run")
	warmup := fs.Int("warmup", 20, "untimed requests before each run")
	soak := fs.Int("soak", 0, "requests of the memory soak after the runs (0: none)")
	soakClients := fs.Int("soak-clients", 8, "concurrent clients of the soak")
	soakDuration := fs.Duration("soak-duration", 30*time.Minute, "longest soak")
	textsFile := fs.String("texts", "", "file whose non-blank lines are the request texts (default: the demo clinical notes)")
	device := fs.String("device", "cpu", "cpu, cuda or cuda:N")
	batch := fs.Int("batch", 32, "windows per forward pass")
	maxLen := fs.Int("max-len", 0, "window length in sub-tokens (0 = 256, capped at the model's maximum)")
	d := serve.DefaultOptions()
	maxTokens := fs.Int("max-batch-tokens", d.MaxBatchTokens, "sub-tokens per batch (batching on)")
	maxWait := fs.Duration("max-batch-wait", d.MaxBatchWait, "longest wait of a batch's first document (batching on)")
	asJSON := fs.Bool("json", false, "JSON lines instead of a table")
	if err := cli.ParseFlags(fs, args, cli.AtLeast("requests", 1), cli.Above("duration", 0), cli.AtLeast("warmup", 0),
		cli.AtLeast("soak", 0), cli.AtLeast("soak-clients", 1), cli.Above("soak-duration", 0), cli.AtLeast("batch", 1),
		cli.ZeroOrAtLeast("max-len", 3), cli.AtLeast("max-batch-tokens", 1), cli.AtLeast("max-batch-wait", 0), cli.Device("device")); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*model == "") == (*randomConfig == "") {
		return usagef("bench-serve %s", benchServeUsage)
	}
	clients, err := parseInts(*clientsFlag)
	if err != nil {
		return usagef("-clients: %v", err)
	}
	var modes []bool
	for _, m := range strings.Split(*batchingFlag, ",") {
		switch strings.TrimSpace(m) {
		case "on":
			modes = append(modes, true)
		case "off":
			modes = append(modes, false)
		default:
			return usagef("-batching %q: want on, off or on,off", *batchingFlag)
		}
	}
	texts, err := benchTexts(*textsFile)
	if err != nil {
		return err
	}

	dir, name := *model, ""
	if *randomConfig != "" {
		tmp, err := os.MkdirTemp("", "biobertpt-bench-serve-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if name, err = writeRandomNERModel(tmp, *randomConfig, *vocab); err != nil {
			return err
		}
		dir = tmp
	} else {
		name = filepath.Base(strings.TrimRight(dir, "/"))
	}
	m, err := serve.LoadModel(name, dir, ner.TaggerOptions{Device: *device, BatchSize: *batch, MaxLen: *maxLen})
	if err != nil {
		return err
	}
	defer m.Close()
	bodies := make([][]byte, len(texts))
	for i, t := range texts {
		bodies[i], _ = json.Marshal(map[string]string{"text": t})
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "model %s; %d texts; %d CPU threads for Go\n\n", name, len(texts), runtime.GOMAXPROCS(0))
		fmt.Fprintln(e.stdout, "| batching | clients | requests | req/s | p50 ms | p99 ms | errors |")
		fmt.Fprintln(e.stdout, "|---|---|---|---|---|---|---|")
	}
	ctx, stop := signalContext(context.Background())
	defer stop()
	for _, on := range modes {
		o := serve.DefaultOptions()
		o.Models = []serve.Model{m}
		o.NoBatching = !on
		o.MaxBatchTokens, o.MaxBatchWait = *maxTokens, *maxWait
		if *maxWait == 0 {
			o.MaxBatchWait = -1
		}
		o.MaxQueue = max(o.MaxQueue, 4*slicesMax(clients))
		err := withServer(o, func(url string) error {
			for _, c := range clients {
				if _, err := loadRun(ctx, url, bodies, c, *warmup, 0); err != nil {
					return err
				}
				r, err := loadRun(ctx, url, bodies, c, *requests, *duration)
				if err != nil {
					return err
				}
				r.Model, r.Batching, r.Clients = name, onOff(on), c
				if err := printLoad(e.stdout, r, *asJSON); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if *soak == 0 {
		return nil
	}
	o := serve.DefaultOptions()
	o.Models = []serve.Model{m}
	o.MaxBatchTokens, o.MaxBatchWait = *maxTokens, *maxWait
	return withServer(o, func(url string) error {
		if _, err := loadRun(ctx, url, bodies, *soakClients, *warmup, 0); err != nil {
			return err
		}
		runtime.GC()
		before, err := torchutil.RSS()
		if err != nil {
			return err
		}
		start := time.Now()
		r, err := loadRun(ctx, url, bodies, *soakClients, *soak, *soakDuration)
		if err != nil {
			return err
		}
		runtime.GC()
		after, err := torchutil.RSS()
		if err != nil {
			return err
		}
		peak, _ := torchutil.PeakRSS()
		s := soakResult{Model: name, Requests: r.Requests, Clients: *soakClients, Seconds: time.Since(start).Seconds(), Errors: r.Errors,
			RSSBeforeMiB: mib(before), RSSAfterMiB: mib(after), PeakRSSMiB: mib(peak), ReqPerSec: r.ReqPerSec}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(s)
		}
		_, err = fmt.Fprintf(e.stdout, "\nsoak: %d requests from %d clients in %.0f s (%.1f req/s, %d errors): RSS %.0f MiB before, %.0f MiB after (%+.1f MiB), peak %.0f MiB\n",
			s.Requests, s.Clients, s.Seconds, s.ReqPerSec, s.Errors, s.RSSBeforeMiB, s.RSSAfterMiB, s.RSSAfterMiB-s.RSSBeforeMiB, s.PeakRSSMiB)
		return err
	})
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func slicesMax(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want positive integers, comma-separated", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchTexts returns the non-blank lines of path, or of the demo notes.
func benchTexts(path string) ([]string, error) {
	text := demodata.ClinicalText()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("bench-serve: -texts: %w", err)
		}
		text = string(b)
	}
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench-serve: -texts %s: no non-blank line", path)
	}
	return out, nil
}

// writeRandomNERModel saves a freshly initialised token-classification
// model of size ("base" or "tiny") over vocab (default: the demo
// vocabulary) with CLINpt's entity types into dir, and returns its name.
func writeRandomNERModel(dir, size, vocab string) (string, error) {
	var cfg *bert.Config
	switch size {
	case "base":
		cfg = bert.DefaultConfig() // 12 layers, hidden 768, 12 heads, intermediate 3072, 512 positions
	case "tiny":
		cfg = bert.TinyConfig()
		cfg.MaxPositionEmbeddings = 512
	default:
		return "", usagef("-random-config %q: want base or tiny", size)
	}
	var tok *tokenize.Tokenizer
	var err error
	if vocab != "" {
		tok, err = tokenize.LoadVocabFile(vocab, tokenize.DefaultOptions())
	} else {
		tok, err = tokenize.New(strings.Split(strings.TrimRight(string(demodata.Vocab()), "\n"), "\n"), tokenize.DefaultOptions(), "demodata")
	}
	if err != nil {
		return "", err
	}
	cfg.VocabSize = tok.VocabSize()
	labels := []string{"O"}
	for _, t := range demodata.EntityTypes() {
		labels = append(labels, "B-"+t, "I-"+t)
	}
	if err := cfg.SetLabels(labels); err != nil {
		return "", err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m, err := bert.NewForTokenClassification(cfg, gotch.CPU)
	if err != nil {
		return "", err
	}
	if err := m.Save(dir); err != nil {
		return "", err
	}
	if err := tok.Save(dir); err != nil {
		return "", err
	}
	return fmt.Sprintf("random-%s (%d layers × %d, vocabulary %d)", size, cfg.NumHiddenLayers, cfg.HiddenSize, cfg.VocabSize), nil
}

// withServer serves New(o) on a loopback port while f runs.
func withServer(o serve.Options, f func(url string) error) error {
	srv, err := serve.New(o)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("bench-serve: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	return f("http://" + ln.Addr().String())
}

// loadResult is one run of loadRun.
type loadResult struct {
	Model     string  `json:"model"`
	Batching  string  `json:"batching"`
	Clients   int     `json:"clients"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	ReqPerSec float64 `json:"req_per_s"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
}

type soakResult struct {
	Model        string  `json:"model"`
	Requests     int     `json:"soak_requests"`
	Clients      int     `json:"clients"`
	Seconds      float64 `json:"seconds"`
	ReqPerSec    float64 `json:"req_per_s"`
	Errors       int     `json:"errors"`
	RSSBeforeMiB float64 `json:"rss_before_mib"`
	RSSAfterMiB  float64 `json:"rss_after_mib"`
	PeakRSSMiB   float64 `json:"peak_rss_mib"`
}

// loadRun sends up to n requests (bodies in turn) from clients goroutines,
// stopping at maxDur when it is positive, and measures their latency. A
// non-200 answer counts as an error; a failed connection ends the run.
func loadRun(ctx context.Context, url string, bodies [][]byte, clients, n int, maxDur time.Duration) (loadResult, error) {
	if n == 0 {
		return loadResult{}, nil
	}
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	var next, errs atomic.Int64
	lat := make([][]time.Duration, clients)
	var deadline time.Time
	if maxDur > 0 {
		deadline = time.Now().Add(maxDur)
	}
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || ctx.Err() != nil || !deadline.IsZero() && time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/ner", bytes.NewReader(bodies[int(i)%len(bodies)]))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}(c)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if err, ok := firstErr.Load().(error); ok {
		return loadResult{}, fmt.Errorf("bench-serve: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return loadResult{}, fmt.Errorf("bench-serve: %w", err)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return loadResult{}, errors.New("bench-serve: no request succeeded")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	q := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	return loadResult{Requests: len(all), Errors: int(errs.Load()), Seconds: secs, ReqPerSec: float64(len(all)) / secs, P50ms: q(0.50), P99ms: q(0.99)}, nil
}

func printLoad(w io.Writer, r loadResult, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(r)
	}
	_, err := fmt.Fprintf(w, "| %s | %d | %d | %.1f | %.1f | %.1f | %d |\n", r.Batching, r.Clients, r.Requests, r.ReqPerSec, r.P50ms, r.P99ms, r.Errors)
	return err
}
