package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/examples/internal/testutil"
	"github.com/biobertpt-go/biobertpt/ner"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// nerModelDir writes a tiny random NER model with types C and DT.
func nerModelDir(t *testing.T) string {
	t.Helper()
	return testutil.TinyModelDir(t, bert.HeadTokenClassification, []string{"O", "B-C", "I-C", "B-DT", "I-DT"}, nil)
}

// running is a serve command running in the background.
type running struct {
	url    string
	client *http.Client
	stderr *syncBuffer
	done   chan struct{} // closed when the command has returned err
	err    error
	cancel context.CancelFunc
}

// wait waits for the command to return (at most 30s) and returns its error.
func (r *running) wait() error {
	select {
	case <-r.done:
		return r.err
	case <-time.After(30 * time.Second):
		return errors.New("serve did not stop")
	}
}

// startServe runs the serve command with args (plus -addr 127.0.0.1:0)
// and waits until it accepts connections; ctx ends it.
func startServe(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stderr: &syncBuffer{}, done: make(chan struct{}), cancel: cancel, client: &http.Client{Timeout: 30 * time.Second}}
	urls := make(chan string, 1)
	go func() {
		defer close(r.done)
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: r.stderr}
		r.err = serveCommand(ctx, e, append([]string{"-addr", "127.0.0.1:0"}, args...), func(u string) { urls <- u })
	}()
	t.Cleanup(func() {
		cancel()
		r.wait()
	})
	select {
	case r.url = <-urls:
	case <-r.done:
		t.Fatalf("serve ended before serving: %v\n%s", r.err, r.stderr)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	return r
}

func (r *running) post(t *testing.T, body string, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.url+"/v1/ner", strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := r.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func TestServeCommand(t *testing.T) {
	dir := nerModelDir(t)
	tokens := filepath.Join(t.TempDir(), "tokens")
	require.NoError(t, os.WriteFile(tokens, []byte("# one token a line\n\nsegredo-1\n"), 0o600))
	r := startServe(t, "-model", "clin="+dir, "-model", dir, "-token-file", tokens, "-max-len", "64")
	assert.True(t, strings.HasPrefix(r.url, "http://127.0.0.1:"), r.url)

	tg, err := ner.Load(dir, ner.TaggerOptions{MaxLen: 64})
	require.NoError(t, err)
	defer tg.Close()
	text := "Paciente com dor torácica há 2 dias, nega febre."
	want, err := tg.Predict(text)
	require.NoError(t, err)

	auth := map[string]string{"Authorization": "Bearer segredo-1"}
	status, body := r.post(t, `{"text": "`+text+`"}`, auth)
	require.Equal(t, 200, status, "%s", body)
	var resp struct {
		Model     string
		Documents []struct{ Entities []ner.Entity }
	}
	require.NoError(t, json.Unmarshal(body, &resp))
	assert.Equal(t, "clin", resp.Model)
	require.Len(t, resp.Documents[0].Entities, len(want))
	for i, e := range resp.Documents[0].Entities {
		assert.Equal(t, want[i].Start, e.Start)
		assert.Equal(t, want[i].End, e.End)
		assert.Equal(t, want[i].Type, e.Type)
	}
	status, body = r.post(t, `{"model": "`+testutil.ModelDirName+`", "texts": ["Nega febre."]}`, auth)
	assert.Equal(t, 200, status, "%s", body)
	status, _ = r.post(t, `{"text": "Nega febre."}`, nil)
	assert.Equal(t, 401, status)
	status, _ = r.post(t, `{"text": "Nega febre."}`, map[string]string{"Authorization": "Bearer segredo-2"})
	assert.Equal(t, 401, status)

	resp2, err := r.client.Get(r.url + "/healthz")
	require.NoError(t, err)
	resp2.Body.Close()
	assert.Equal(t, 200, resp2.StatusCode)

	r.cancel()
	require.NoError(t, r.wait())
	log := r.stderr.String()
	assert.Contains(t, log, `"msg":"request"`)
	assert.Contains(t, log, `"status":401`)
	assert.Contains(t, log, `"msg":"stopped"`)
	assert.NotContains(t, log, "torácica")
	assert.NotContains(t, log, "segredo")
}

// TestServeGracefulShutdown sends the process a real SIGTERM while a
// request is in flight (its body is still arriving): the request is
// answered, new connections are refused and the command returns nil
// (exit 0).
func TestServeGracefulShutdown(t *testing.T) {
	dir := nerModelDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &syncBuffer{}
	urls := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		// runServe's own signal handling, with the test's readiness hook.
		sctx, stop := signalContext(ctx)
		defer stop()
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr}
		err := serveCommand(sctx, e, []string{"-addr", "127.0.0.1:0", "-model", dir}, func(u string) { urls <- u })
		done <- cli.Status("biobertpt serve", err, stderr)
	}()
	var url string
	select {
	case url = <-urls:
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start: %s", stderr)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	answered := make(chan int, 1)
	body, bodyW := io.Pipe()
	go func() {
		resp, err := client.Post(url+"/v1/ner", "application/json", body)
		if err != nil {
			answered <- -1
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	waitInFlight(t, client, url)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGTERM))
	waitFor(t, func() bool { return strings.Contains(stderr.String(), `"msg":"shutting down"`) })
	// New connections are refused while the request in flight goes on.
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case <-done:
		t.Fatal("serve stopped with a request in flight")
	default:
	}
	io.WriteString(bodyW, `{"text": "Dor torácica há 2 dias."}`)
	bodyW.Close()
	assert.Equal(t, 200, <-answered)
	select {
	case code := <-done:
		assert.Equal(t, 0, code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// waitFor polls cond every 10ms for at most 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitInFlight polls /metrics until a /v1/ner request is in flight.
func waitInFlight(t *testing.T, client *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(url + "/metrics")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The /metrics request itself is the other one in flight.
		if strings.Contains(string(b), "biobertpt_http_requests_in_flight 2") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no request in flight")
}

func TestServeShutdownTimeout(t *testing.T) {
	dir := nerModelDir(t)
	r := startServe(t, "-model", dir, "-shutdown-timeout", "100ms", "-log-format", "text")
	body, bodyW := io.Pipe()
	defer bodyW.Close()
	answered := make(chan error, 1)
	go func() {
		resp, err := r.client.Post(r.url+"/v1/ner", "application/json", body)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	waitInFlight(t, r.client, r.url)
	r.cancel()
	err := r.wait()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-shutdown-timeout 100ms")
	bodyW.Close() // the client's body writer waits on the pipe
	<-answered
}

func TestServeTLS(t *testing.T) {
	dir := nerModelDir(t)
	certFile, keyFile, pool := selfSignedCert(t)
	r := startServe(t, "-model", dir, "-tls-cert", certFile, "-tls-key", keyFile)
	require.True(t, strings.HasPrefix(r.url, "https://127.0.0.1:"), r.url)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post(r.url+"/v1/ner", "application/json", strings.NewReader(`{"text": "Nega febre."}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.NotNil(t, resp.TLS)
	// Plain HTTP to the TLS port is not served.
	plain, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + strings.TrimPrefix(r.url, "https://") + "/healthz")
	if err == nil {
		plain.Body.Close()
		assert.Equal(t, http.StatusBadRequest, plain.StatusCode)
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	d := t.TempDir()
	certFile, keyFile = filepath.Join(d, "cert.pem"), filepath.Join(d, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile, pool
}

func TestServeUsageErrors(t *testing.T) {
	dir := nerModelDir(t)
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, []byte("# nothing\n"), 0o600))
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{nil, "usage", 2},
		{[]string{"-model", dir, "extra"}, "usage", 2},
		{[]string{"-model", dir, "-tls-cert", "c.pem"}, "-tls-cert and -tls-key", 2},
		{[]string{"-model", dir, "-shutdown-timeout", "0s"}, "-shutdown-timeout", 2},
		{[]string{"-model", dir, "-max-queue", "0"}, "-max-queue", 2},
		{[]string{"-model", dir, "-max-docs", "2000"}, "-max-docs", 2},
		{[]string{"-model", dir, "-batch", "0"}, "-batch", 2},
		{[]string{"-model", dir, "-log-format", "xml"}, "-log-format", 2},
		{[]string{"-model", "=x"}, "NAME=DIR", 2},
		{[]string{"-model", dir, "-token-file", empty}, "no token", 1},
		{[]string{"-model", dir, "-token-file", filepath.Join(t.TempDir(), "missing")}, "-token-file", 1},
		{[]string{"-model", dir, "-tls-cert", empty, "-tls-key", empty}, "TLS", 1},
		{[]string{"-model", t.TempDir()}, "no config.json", 1},
		{[]string{"-model", "a=" + dir, "-model", "a=" + dir}, "twice", 2},
		{[]string{"-model", dir, "-addr", "127.0.0.1:99999"}, "listen", 1},
	} {
		var stderr bytes.Buffer
		code := run(&env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &stderr}, append([]string{"serve"}, tc.args...))
		assert.Equal(t, tc.code, code, "%v: %s", tc.args, stderr.String())
		assert.Contains(t, stderr.String(), tc.want, "%v", tc.args)
	}
}
