package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/ner"
)

// startServer serves New(o) on a loopback port until the test ends.
func startServer(t *testing.T, o Options) (*Server, string) {
	t.Helper()
	s, err := New(o)
	require.NoError(t, err)
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		s.Close()
	})
	return s, hs.URL
}

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) errorCode(t *testing.T) string {
	t.Helper()
	var e apiError
	require.NoError(t, json.Unmarshal(r.body, &e), "body %s", r.body)
	assert.NotEmpty(t, e.Error.Message)
	return e.Error.Code
}

func (r reply) response(t *testing.T) Response {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body %s", r.body)
	var resp Response
	require.NoError(t, json.Unmarshal(r.body, &resp))
	return resp
}

func do(t *testing.T, ctx context.Context, method, url, body string, header map[string]string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

func post(t *testing.T, url, body string) reply {
	t.Helper()
	return do(t, context.Background(), http.MethodPost, url+"/v1/ner", body, nil)
}

func get(t *testing.T, url, path string) reply {
	t.Helper()
	return do(t, context.Background(), http.MethodGet, url+path, "", nil)
}

func fakeModel(name string, tgs ...*fakeTagger) Model {
	m := Model{Name: name}
	for _, tg := range tgs {
		m.Taggers = append(m.Taggers, tg)
	}
	return m
}

func TestEndpoints(t *testing.T) {
	a, b := newFake("C"), newFake("Disorders")
	c := newFake("Chemicals")
	var logs bytes.Buffer
	o := DefaultOptions()
	o.Models = []Model{fakeModel("clinpt", a), fakeModel("semclinbr", b, c)}
	o.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	_, url := startServer(t, o)

	r := get(t, url, "/healthz")
	assert.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"status":"ok"}`, string(r.body))
	r = get(t, url, "/readyz")
	assert.Equal(t, http.StatusOK, r.status)
	assert.JSONEq(t, `{"status":"ready","models":["clinpt","semclinbr"]}`, string(r.body))

	r = get(t, url, "/v1/models")
	require.Equal(t, http.StatusOK, r.status)
	var models struct{ Models []ModelInfo }
	require.NoError(t, json.Unmarshal(r.body, &models))
	require.Len(t, models.Models, 2)
	assert.Equal(t, ModelInfo{Name: "clinpt", Default: true, Labels: []string{"O", "B-C", "I-C"}, EntityTypes: []string{"C"},
		Scheme: "IOB2", MaxLength: 128, Splitter: "bert"}, models.Models[0])
	assert.Equal(t, []string{"Chemicals", "Disorders"}, models.Models[1].EntityTypes)
	assert.Len(t, models.Models[1].Groups, 2)

	// text, texts and documents; the default model is the first.
	resp := post(t, url, `{"text": "Dor torácica e Febre"}`).response(t)
	assert.Equal(t, "clinpt", resp.Model)
	require.Len(t, resp.Documents, 1)
	assert.Equal(t, fakeEntities("Dor torácica e Febre", "C"), resp.Documents[0].Entities)
	resp = post(t, url, `{"texts": ["sem achados", "Nega Dispneia"]}`).response(t)
	require.Len(t, resp.Documents, 2)
	assert.Equal(t, DocumentResult{Index: 0, Entities: []ner.Entity{}}, resp.Documents[0])
	assert.Equal(t, fakeEntities("Nega Dispneia", "C"), resp.Documents[1].Entities)
	resp = post(t, url, `{"model": "clinpt", "documents": [{"id": "n1", "text": "Úlcera gástrica"}, {"id": "n2", "text": "AAS 100 mg"}]}`).response(t)
	assert.Equal(t, "n1", resp.Documents[0].ID)
	assert.Equal(t, "n2", resp.Documents[1].ID)
	assert.Equal(t, 1, resp.Documents[1].Index)
	assert.Equal(t, []ner.Entity{{Type: "C", Text: "Úlcera", Start: 0, End: 6, Score: 0.5}}, resp.Documents[0].Entities)

	// The multi-group model answers every group's entities, sorted.
	resp = post(t, url, `{"model": "semclinbr", "text": "Dor e Febre"}`).response(t)
	assert.Equal(t, []ner.Entity{
		{Type: "Chemicals", Text: "Dor", Start: 0, End: 3, Score: 0.5},
		{Type: "Disorders", Text: "Dor", Start: 0, End: 3, Score: 0.5},
		{Type: "Chemicals", Text: "Febre", Start: 6, End: 11, Score: 0.5},
		{Type: "Disorders", Text: "Febre", Start: 6, End: 11, Score: 0.5},
	}, resp.Documents[0].Entities)

	r = get(t, url, "/metrics")
	require.Equal(t, http.StatusOK, r.status)
	for _, want := range []string{
		`biobertpt_http_requests_total{code="200",handler="/v1/ner"} 4`,
		"biobertpt_http_request_duration_seconds_bucket",
		`biobertpt_batch_documents_count{group="C",model="clinpt"}`,
		"biobertpt_batch_tokens_bucket",
		`biobertpt_queue_documents{group="Disorders",model="semclinbr"} 0`,
		`biobertpt_tokens_total{group="C",model="clinpt"}`,
		"biobertpt_batch_tokens_per_second",
		"go_goroutines",
	} {
		assert.Contains(t, string(r.body), want)
	}

	r = get(t, url, "/nothing")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "not_found", r.errorCode(t))
	r = get(t, url, "/v1/ner")
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	assert.Equal(t, "POST", r.header.Get("Allow"))
	assert.Equal(t, "method_not_allowed", r.errorCode(t))

	// The access log has one record per request, with no text.
	recs := strings.Split(strings.TrimSpace(logs.String()), "\n")
	assert.Len(t, recs, 10)
	for _, rec := range recs {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(rec), &m))
		assert.NotEmpty(t, m["id"])
		assert.Contains(t, m, "status")
		assert.Contains(t, m, "duration_ms")
	}
	for _, secret := range []string{"torácica", "Dispneia", "Úlcera", "Febre"} {
		assert.NotContains(t, logs.String(), secret)
	}
}

func TestRequestID(t *testing.T) {
	o := DefaultOptions()
	o.Models = []Model{fakeModel("m", newFake("C"))}
	_, url := startServer(t, o)
	r := do(t, context.Background(), http.MethodGet, url+"/healthz", "", map[string]string{"X-Request-ID": "abc-123"})
	assert.Equal(t, "abc-123", r.header.Get("X-Request-ID"))
	r = do(t, context.Background(), http.MethodGet, url+"/healthz", "", map[string]string{"X-Request-ID": "bad id!"})
	assert.Regexp(t, `^[0-9a-f]{16}$`, r.header.Get("X-Request-ID"))
}

func TestErrorCodes(t *testing.T) {
	o := DefaultOptions()
	o.Models = []Model{fakeModel("m", newFake("C"))}
	o.MaxBodyBytes = 2000
	o.MaxChars = 100
	o.MaxDocuments = 3
	_, url := startServer(t, o)
	long := strings.Repeat("á", 101)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
		msg        string
	}{
		{"invalid JSON", `{"text": "dor"`, 400, "invalid_json", "truncated"},
		{"syntax error", `{"text": dor}`, 400, "invalid_json", "offset"},
		{"empty body", ``, 400, "invalid_json", "empty body"},
		{"not an object", `["dor"]`, 400, "invalid_request", "JSON object"},
		{"trailing data", `{"text": "dor"} {}`, 400, "invalid_json", "after"},
		{"invalid UTF-8", "{\"text\": \"dor \xff\xfe\"}", 400, "invalid_utf8", "byte offset 14"},
		{"text not a string", `{"text": 5}`, 400, "invalid_request", `field "text"`},
		{"texts not an array", `{"texts": "dor"}`, 400, "invalid_request", `field "texts"`},
		{"texts item not a string", `{"texts": ["dor", 7]}`, 400, "invalid_request", `field "texts`},
		{"document text not a string", `{"documents": [{"id": "a", "text": {}}]}`, 400, "invalid_request", "documents"},
		{"model not a string", `{"model": 1, "text": "dor"}`, 400, "invalid_request", `field "model"`},
		{"unknown field", `{"txt": "dor"}`, 400, "invalid_request", `unknown field "txt"`},
		{"no text", `{}`, 400, "invalid_request", "one of"},
		{"null text", `{"text": null}`, 400, "invalid_request", "one of"},
		{"two inputs", `{"text": "dor", "texts": ["febre"]}`, 400, "invalid_request", "only one"},
		{"empty text", `{"text": ""}`, 400, "invalid_request", "text is empty"},
		{"blank text", `{"text": " \n\t"}`, 400, "invalid_request", "text is empty"},
		{"empty texts", `{"texts": []}`, 400, "invalid_request", "texts is empty"},
		{"empty item", `{"texts": ["dor", ""]}`, 400, "invalid_request", "texts[1] is empty"},
		{"empty documents", `{"documents": []}`, 400, "invalid_request", "documents is empty"},
		{"empty document", `{"documents": [{"id": "a"}]}`, 400, "invalid_request", "documents[0].text is empty"},
		{"text too long", `{"text": "` + long + `"}`, 413, "text_too_long", "101 characters"},
		{"too many documents", `{"texts": ["a", "b", "c", "d"]}`, 413, "too_many_documents", "at most 3"},
		{"body too large", `{"text": "` + strings.Repeat("a", 2000) + `"}`, 413, "body_too_large", "2000 bytes"},
		{"unknown model", `{"model": "nope", "text": "dor"}`, 404, "model_not_found", `"nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(t, url, tc.body)
			assert.Equal(t, tc.status, r.status, "body %s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, tc.code, r.errorCode(t))
			var e apiError
			require.NoError(t, json.Unmarshal(r.body, &e))
			assert.Contains(t, e.Error.Message, tc.msg)
		})
	}
	// The server still answers after all that.
	post(t, url, `{"text": "Dor"}`).response(t)
}

func TestAuth(t *testing.T) {
	for _, tokens := range [][]string{nil, {"s3cret-token", "other"}} {
		t.Run(fmt.Sprintf("%d tokens", len(tokens)), func(t *testing.T) {
			o := DefaultOptions()
			o.Models = []Model{fakeModel("m", newFake("C"))}
			o.Tokens = tokens
			_, url := startServer(t, o)
			body := `{"text": "Dor"}`
			ctx := context.Background()
			for _, tc := range []struct {
				name, method, path, auth string
				want                     int
			}{
				{"no header", "POST", "/v1/ner", "", 401},
				{"wrong token", "POST", "/v1/ner", "Bearer s3cret-tokem", 401},
				{"prefix of the token", "POST", "/v1/ner", "Bearer s3cret", 401},
				{"not bearer", "POST", "/v1/ner", "Basic czNjcmV0LXRva2Vu", 401},
				{"right token", "POST", "/v1/ner", "Bearer s3cret-token", 200},
				{"second token, lower-case scheme", "POST", "/v1/ner", "bearer other", 200},
				{"models", "GET", "/v1/models", "", 401},
				{"metrics", "GET", "/metrics", "", 401},
				{"healthz stays open", "GET", "/healthz", "", 200},
				{"readyz stays open", "GET", "/readyz", "", 200},
			} {
				want := tc.want
				if tokens == nil && want == 401 {
					want = 200
				}
				b := ""
				if tc.method == "POST" {
					b = body
				}
				r := do(t, ctx, tc.method, url+tc.path, b, map[string]string{"Authorization": tc.auth})
				assert.Equal(t, want, r.status, "%s: %s", tc.name, r.body)
				if want == 401 {
					assert.Equal(t, "unauthorized", r.errorCode(t))
					assert.Equal(t, `Bearer realm="biobertpt"`, r.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
}

// waitCalls waits until f has been entered n times (bounded).
func waitEntered(t *testing.T, f *fakeTagger, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		select {
		case <-f.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("tagger not entered (%d of %d)", i, n)
		}
	}
}

// waitFor polls cond every 5ms for at most 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func queued(s *Server, model string, tagger int) int {
	b := s.models[model].batchers[tagger]
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

func TestQueueFullAnswers503(t *testing.T) {
	f := newFake("C").gated()
	o := DefaultOptions()
	o.Models = []Model{fakeModel("m", f)}
	o.MaxQueue = 3
	o.MaxDocuments = 3
	o.RetryAfter = 1500 * time.Millisecond
	s, url := startServer(t, o)

	// One request runs (held by the gate), three documents wait.
	var wg sync.WaitGroup
	replies := make(chan reply, 3)
	send := func(body string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			replies <- post(t, url, body)
		}()
	}
	send(`{"text": "Dor"}`)
	waitEntered(t, f, 1)
	send(`{"texts": ["Febre", "Tosse"]}`)
	waitFor(t, "2 queued", func() bool { return queued(s, "m", 0) == 2 })
	send(`{"text": "Dispneia"}`)
	waitFor(t, "3 queued", func() bool { return queued(s, "m", 0) == 3 })

	// The queue is full: 503 with Retry-After, at once, without queueing.
	for i := 0; i < 3; i++ {
		r := post(t, url, `{"text": "Cefaleia"}`)
		assert.Equal(t, http.StatusServiceUnavailable, r.status)
		assert.Equal(t, "overloaded", r.errorCode(t))
		assert.Equal(t, "2", r.header.Get("Retry-After"))
	}
	assert.Equal(t, 3, queued(s, "m", 0))

	close(f.gate)
	wg.Wait()
	close(replies)
	for r := range replies {
		r.response(t)
	}
	for _, call := range f.callTexts() {
		assert.NotContains(t, call, "Cefaleia")
	}
	post(t, url, `{"text": "Cefaleia"}`).response(t)
}

func TestDisconnectCancelsQueuedWork(t *testing.T) {
	f := newFake("C").gated()
	o := DefaultOptions()
	o.Models = []Model{fakeModel("m", f)}
	s, url := startServer(t, o)

	done := make(chan reply, 1)
	go func() { done <- post(t, url, `{"text": "Primeiro"}`) }()
	waitEntered(t, f, 1)

	// A second request waits in the queue; its client gives up.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/ner", strings.NewReader(`{"texts": ["Abandonado", "Esquecido"]}`))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitFor(t, "queued", func() bool { return queued(s, "m", 0) == 2 })
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	// The handler sees the disconnect and cancels its documents; the
	// dispatcher drops them when it next looks at the queue.
	waitFor(t, "the handler to return", func() bool {
		return strings.Contains(string(get(t, url, "/metrics").body), `biobertpt_http_requests_total{code="499",handler="/v1/ner"} 1`)
	})
	close(f.gate)
	assert.Equal(t, fakeEntities("Primeiro", "C"), (<-done).response(t).Documents[0].Entities)
	waitFor(t, "the queue to empty", func() bool { return queued(s, "m", 0) == 0 })
	post(t, url, `{"text": "Depois"}`).response(t)

	for _, call := range f.callTexts() {
		assert.NotContains(t, call, "Abandonado")
		assert.NotContains(t, call, "Esquecido")
	}
	assert.Contains(t, string(get(t, url, "/metrics").body), `biobertpt_cancelled_documents_total{group="C",model="m"} 2`)
}

func TestBatchingPacksConcurrentRequests(t *testing.T) {
	for _, noBatching := range []bool{false, true} {
		t.Run(fmt.Sprintf("NoBatching=%v", noBatching), func(t *testing.T) {
			f := newFake("C").gated()
			o := DefaultOptions()
			o.Models = []Model{fakeModel("m", f)}
			o.NoBatching = noBatching
			o.MaxBatchTokens = 10 // CountTokens is words + 2 per text
			s, url := startServer(t, o)

			var wg sync.WaitGroup
			var mu sync.Mutex
			got := map[string][]ner.Entity{}
			send := func(text string) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := post(t, url, `{"text": "`+text+`"}`)
					mu.Lock()
					got[text] = r.response(t).Documents[0].Entities
					mu.Unlock()
				}()
			}
			send("Primeiro")
			waitEntered(t, f, 1)
			texts := []string{"Um", "Dois", "Três", "Quatro Cinco Seis Sete Oito"}
			for i, text := range texts {
				send(text)
				waitFor(t, "queued", func() bool { return queued(s, "m", 0) == i+1 })
			}
			close(f.gate)
			wg.Wait()
			for _, text := range append(texts, "Primeiro") {
				assert.Equal(t, fakeEntities(text, "C"), got[text], text)
			}
			calls := f.callTexts()
			if noBatching {
				assert.Equal(t, [][]string{{"Primeiro"}, {"Um"}, {"Dois"}, {"Três"}, {"Quatro Cinco Seis Sete Oito"}}, calls)
			} else {
				// 3 + 3 + 3 tokens fit in 10; the fourth (7) starts a batch.
				assert.Equal(t, [][]string{{"Primeiro"}, {"Um", "Dois", "Três"}, {"Quatro Cinco Seis Sete Oito"}}, calls)
			}
		})
	}
}

func TestMaxBatchWaitGathersArrivals(t *testing.T) {
	f := newFake("C")
	o := DefaultOptions()
	o.Models = []Model{fakeModel("m", f)}
	o.MaxBatchWait = 2 * time.Second
	o.MaxBatchTokens = 9 // three one-word texts
	s, url := startServer(t, o)

	// A lone request does not wait for company.
	start := time.Now()
	post(t, url, `{"text": "Só"}`).response(t)
	assert.Less(t, time.Since(start), time.Second)

	// Two requests whose bodies are still on their way are being answered
	// when a third is queued: the batch waits for them, and runs as soon
	// as the budget is full.
	var wg sync.WaitGroup
	var pipes []*io.PipeWriter
	for range 2 {
		pr, pw := io.Pipe()
		pipes = append(pipes, pw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(url+"/v1/ner", "application/json", pr)
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
		}()
	}
	waitFor(t, "two requests in flight", func() bool { return s.nerReqs.Load() == 2 })
	start = time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		post(t, url, `{"text": "Um"}`).response(t)
	}()
	waitFor(t, "queued", func() bool { return queued(s, "m", 0) == 0 && len(f.callTexts()) == 1 && s.nerReqs.Load() == 3 })
	time.Sleep(20 * time.Millisecond) // the batch is waiting, not running
	assert.Len(t, f.callTexts(), 1)
	io.WriteString(pipes[0], `{"text": "Dois"}`)
	pipes[0].Close()
	io.WriteString(pipes[1], `{"text": "Três"}`)
	pipes[1].Close()
	wg.Wait()
	assert.Less(t, time.Since(start), 2*time.Second, "the full batch ran before the wait ended")
	calls := f.callTexts()
	require.Len(t, calls, 2)
	assert.ElementsMatch(t, []string{"Um", "Dois", "Três"}, calls[1])
}

func TestPanicFailsOnlyItsRequest(t *testing.T) {
	f := newFake("C").gated()
	o := DefaultOptions()
	o.Models = []Model{fakeModel("m", f)}
	s, url := startServer(t, o)

	first := make(chan reply, 1)
	go func() { first <- post(t, url, `{"text": "Primeiro"}`) }()
	waitEntered(t, f, 1)
	replies := make([]chan reply, 3)
	for i, body := range []string{`{"text": "Bom dia"}`, `{"texts": ["Ok", "PANIC aqui"]}`, `{"text": "Boa noite"}`} {
		replies[i] = make(chan reply, 1)
		go func() { replies[i] <- post(t, url, body) }()
		waitFor(t, "queued", func() bool { return queued(s, "m", 0) == []int{1, 3, 4}[i] })
	}
	close(f.gate)
	(<-first).response(t)
	assert.Equal(t, fakeEntities("Bom dia", "C"), (<-replies[0]).response(t).Documents[0].Entities)
	r := <-replies[1]
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, "internal", r.errorCode(t))
	assert.Equal(t, fakeEntities("Boa noite", "C"), (<-replies[2]).response(t).Documents[0].Entities)
	// The batch of three requests failed, then each ran alone.
	calls := f.callTexts()
	require.Len(t, calls, 5)
	assert.Equal(t, []string{"Bom dia", "Ok", "PANIC aqui", "Boa noite"}, calls[1])
	assert.Equal(t, [][]string{{"Bom dia"}, {"Ok", "PANIC aqui"}, {"Boa noite"}}, calls[2:])
	post(t, url, `{"text": "Depois"}`).response(t)
}

func TestCloseAnswersQueuedAndLaterRequests(t *testing.T) {
	f := newFake("C").gated()
	o := DefaultOptions()
	o.Models = []Model{fakeModel("m", f)}
	s, url := startServer(t, o)
	first := make(chan reply, 1)
	go func() { first <- post(t, url, `{"text": "Primeiro"}`) }()
	waitEntered(t, f, 1)
	second := make(chan reply, 1)
	go func() { second <- post(t, url, `{"text": "Segundo"}`) }()
	waitFor(t, "queued", func() bool { return queued(s, "m", 0) == 1 })

	s.Drain()
	assert.Equal(t, http.StatusServiceUnavailable, get(t, url, "/readyz").status)
	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	r := <-second
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "shutting_down", r.errorCode(t))
	select {
	case <-closed:
		t.Fatal("Close returned while a batch was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(f.gate)
	<-closed
	(<-first).response(t)
	r = post(t, url, `{"text": "Terceiro"}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	assert.Equal(t, "shutting_down", r.errorCode(t))
}

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	f := newFake("C").gated()
	o := DefaultOptions()
	o.Models = []Model{fakeModel("m", f)}
	s, err := New(o)
	require.NoError(t, err)
	defer s.Close()
	hs := httptest.NewServer(s)
	defer hs.Close()

	first := make(chan reply, 1)
	go func() { first <- post(t, hs.URL, `{"text": "Em curso"}`) }()
	waitEntered(t, f, 1)
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- hs.Config.Shutdown(ctx)
	}()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(f.gate)
	assert.Equal(t, fakeEntities("Em curso", "C"), (<-first).response(t).Documents[0].Entities)
	require.NoError(t, <-shut)
}

func TestOptionsValidate(t *testing.T) {
	m := fakeModel("m", newFake("C"))
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no models", func(o *Options) { o.Models = nil }, "Models"},
		{"empty name", func(o *Options) { o.Models = []Model{{Taggers: m.Taggers}} }, "empty name"},
		{"duplicate name", func(o *Options) { o.Models = []Model{m, m} }, "twice"},
		{"no taggers", func(o *Options) { o.Models = []Model{{Name: "x"}} }, "no taggers"},
		{"nil tagger", func(o *Options) { o.Models = []Model{{Name: "x", Taggers: []Tagger{nil}}} }, "nil"},
		{"MaxBatchTokens", func(o *Options) { o.MaxBatchTokens = -1 }, "MaxBatchTokens"},
		{"MaxQueue", func(o *Options) { o.MaxQueue = -1 }, "MaxQueue"},
		{"MaxDocuments over MaxQueue", func(o *Options) { o.MaxQueue, o.MaxDocuments = 4, 5 }, "MaxDocuments"},
		{"MaxChars", func(o *Options) { o.MaxChars = -1 }, "MaxChars"},
		{"MaxBodyBytes", func(o *Options) { o.MaxBodyBytes = -1 }, "MaxBodyBytes"},
		{"empty token", func(o *Options) { o.Tokens = []string{""} }, "Tokens[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			o.Models = []Model{m}
			tc.edit(&o)
			_, err := New(o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseModelFlag(t *testing.T) {
	for _, tc := range []struct{ in, name, dir, err string }{
		{"clinpt=/m/best", "clinpt", "/m/best", ""},
		{"/runs/clin/best/", "best", "/runs/clin/best/", ""},
		{"out", "out", "out", ""},
		{"=dir", "", "", "NAME=DIR"},
		{"name=", "", "", "NAME=DIR"},
		{"", "", "", "empty"},
	} {
		name, dir, err := ParseModelFlag(tc.in)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.name, name)
		assert.Equal(t, tc.dir, dir)
	}
}
