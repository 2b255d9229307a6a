package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchServe(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{"bench-serve", "-random-config", "tiny",
		"-clients", "1,4", "-requests", "24", "-warmup", "2", "-soak", "40", "-soak-clients", "4"})
	require.Equal(t, 0, code, errb.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rows []string
	for _, l := range lines {
		if strings.HasPrefix(l, "| o") {
			rows = append(rows, l)
		}
	}
	require.Len(t, rows, 4, out.String())
	assert.True(t, strings.HasPrefix(rows[0], "| on | 1 | 24 | "), rows[0])
	assert.True(t, strings.HasPrefix(rows[3], "| off | 4 | 24 | "), rows[3])
	assert.True(t, strings.HasSuffix(rows[3], " | 0 |"), "no errors: %s", rows[3])
	assert.Contains(t, lines[len(lines)-1], "soak: 40 requests from 4 clients")

	out.Reset()
	code = run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, []string{"bench-serve", "-random-config", "tiny",
		"-clients", "2", "-batching", "off", "-requests", "6", "-warmup", "0", "-json"})
	require.Equal(t, 0, code, errb.String())
	var r loadResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &r))
	assert.Equal(t, loadResult{Model: r.Model, Batching: "off", Clients: 2, Requests: 6, Seconds: r.Seconds, ReqPerSec: r.ReqPerSec, P50ms: r.P50ms, P99ms: r.P99ms}, r)
	assert.Greater(t, r.ReqPerSec, 0.0)
	assert.LessOrEqual(t, r.P50ms, r.P99ms)

	for _, args := range [][]string{
		{},
		{"-model", "x", "-random-config", "tiny"},
		{"-random-config", "tiny", "-clients", "0"},
		{"-random-config", "tiny", "-batching", "maybe"},
		{"-random-config", "huge"},
	} {
		code = run(&env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}, append([]string{"bench-serve"}, args...))
		assert.Equal(t, 2, code, "%v", args)
	}
}
