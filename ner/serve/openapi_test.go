package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// spec is docs/openapi.yaml, decoded into plain maps.
type spec map[string]any

func loadSpec(t *testing.T) spec {
	t.Helper()
	b, err := os.ReadFile("../../docs/openapi.yaml")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(b, &m))
	return spec(m)
}

func obj(v any) map[string]any {
	switch m := v.(type) {
	case map[string]any:
		return m
	case spec:
		return m
	}
	return nil
}

// resolve follows a local $ref ("#/components/...").
func (s spec) resolve(t *testing.T, v any) map[string]any {
	t.Helper()
	m := obj(v)
	for m != nil && m["$ref"] != nil {
		ref := m["$ref"].(string)
		require.True(t, strings.HasPrefix(ref, "#/"), "ref %s", ref)
		var cur any = map[string]any(s)
		for _, p := range strings.Split(ref[2:], "/") {
			cur = obj(cur)[p]
			require.NotNil(t, cur, "ref %s", ref)
		}
		m = obj(cur)
	}
	return m
}

// validate checks a decoded JSON value against a schema (the subset of
// OpenAPI 3.0 schemas the spec uses) and returns the first mismatch.
func (s spec) validate(t *testing.T, schema map[string]any, v any, path string) error {
	schema = s.resolve(t, schema)
	if enum, ok := schema["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: %v not in enum %v", path, v, enum)
		}
	}
	num := func(k string) (float64, bool) {
		switch x := schema[k].(type) {
		case int:
			return float64(x), true
		case float64:
			return x, true
		}
		return 0, false
	}
	switch schema["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an object", path, v)
		}
		props := obj(schema["properties"])
		for _, r := range asList(schema["required"]) {
			if _, ok := m[r]; !ok {
				return fmt.Errorf("%s: required %q missing", path, r)
			}
		}
		for k, x := range m {
			ps, ok := props[k]
			if !ok {
				if schema["additionalProperties"] == false {
					return fmt.Errorf("%s: property %q not in the spec", path, k)
				}
				continue
			}
			if err := s.validate(t, obj(ps), x, path+"."+k); err != nil {
				return err
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an array", path, v)
		}
		if n, ok := num("minItems"); ok && float64(len(a)) < n {
			return fmt.Errorf("%s: %d items < minItems %v", path, len(a), n)
		}
		for i, x := range a {
			if err := s.validate(t, obj(schema["items"]), x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %T, want a string", path, v)
		}
		if n, ok := num("minLength"); ok && float64(len([]rune(str))) < n {
			return fmt.Errorf("%s: shorter than %v", path, n)
		}
		if p, ok := schema["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			return fmt.Errorf("%s: %q does not match %s", path, str, p)
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok {
			return fmt.Errorf("%s: %T, want a number", path, v)
		}
		if schema["type"] == "integer" && f != math.Trunc(f) {
			return fmt.Errorf("%s: %v is not an integer", path, f)
		}
		if n, ok := num("minimum"); ok && f < n {
			return fmt.Errorf("%s: %v < minimum %v", path, f, n)
		}
		if n, ok := num("maximum"); ok && f > n {
			return fmt.Errorf("%s: %v > maximum %v", path, f, n)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %T, want a boolean", path, v)
		}
	default:
		return fmt.Errorf("%s: schema without a known type: %v", path, schema)
	}
	return nil
}

func asList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		out = append(out, x.(string))
	}
	return out
}

// checkResponse checks one real answer against the spec's response for
// its path, method and status, and returns "path method status".
func (s spec) checkResponse(t *testing.T, path, method string, r reply) string {
	t.Helper()
	key := fmt.Sprintf("%s %s %d", path, method, r.status)
	op := obj(obj(obj(s["paths"])[path])[strings.ToLower(method)])
	require.NotNil(t, op, "%s: no such operation in the spec", key)
	resp := s.resolve(t, obj(op["responses"])[strconv.Itoa(r.status)])
	require.NotNil(t, resp, "%s: status not in the spec (body %s)", key, r.body)
	for name := range obj(resp["headers"]) {
		assert.NotEmpty(t, r.header.Get(name), "%s: header %s", key, name)
	}
	assert.Regexp(t, `^[A-Za-z0-9._-]{1,64}$`, r.header.Get("X-Request-ID"), key)
	content := obj(resp["content"])
	ct := strings.Split(r.header.Get("Content-Type"), ";")[0]
	media := obj(content[ct])
	require.NotNil(t, media, "%s: content type %q not in the spec", key, ct)
	if ct == "application/json" {
		var v any
		require.NoError(t, json.Unmarshal(r.body, &v), key)
		assert.NoError(t, s.validate(t, obj(media["schema"]), v, key))
	}
	return key
}

// TestOpenAPIMatchesResponses drives the server through every endpoint and
// error answer and checks each real response against docs/openapi.yaml;
// every response the spec lists must have been seen.
func TestOpenAPIMatchesResponses(t *testing.T) {
	sp := loadSpec(t)
	seen := map[string]bool{}
	check := func(path, method string, r reply) { seen[sp.checkResponse(t, path, method, r)] = true }

	// The request examples of the spec are valid requests.
	f := newFake("C")
	o := DefaultOptions()
	o.Models = []Model{fakeModel("clinpt", f), fakeModel("semclinbr", newFake("Disorders"), newFake("Chemicals"))}
	o.Tokens = []string{"tok"}
	o.MaxDocuments, o.MaxChars, o.MaxBodyBytes = 4, 50, 1000
	s, url := startServer(t, o)
	auth := map[string]string{"Authorization": "Bearer tok"}
	ctx := context.Background()
	ner := func(body string) reply { return do(t, ctx, "POST", url+"/v1/ner", body, auth) }

	reqSchema := obj(obj(obj(obj(obj(obj(sp["paths"])["/v1/ner"])["post"])["requestBody"])["content"])["application/json"])
	for name, ex := range obj(reqSchema["examples"]) {
		b, err := json.Marshal(obj(ex)["value"])
		require.NoError(t, err)
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		require.NoError(t, sp.validate(t, obj(reqSchema["schema"]), v, "example "+name))
		r := ner(string(b))
		assert.Equal(t, http.StatusOK, r.status, "example %s: %s", name, r.body)
		check("/v1/ner", "POST", r)
	}
	check("/v1/ner", "POST", ner(`{"model": "semclinbr", "documents": [{"id": "a", "text": "Dor e Febre"}, {"text": "sem nada"}]}`))
	check("/v1/ner", "POST", ner(`{"text": 1}`))
	check("/v1/ner", "POST", do(t, ctx, "POST", url+"/v1/ner", `{"text": "Dor"}`, nil))
	check("/v1/ner", "POST", ner(`{"model": "x", "text": "Dor"}`))
	check("/v1/ner", "POST", do(t, ctx, "GET", url+"/v1/ner", "", auth)) // 405
	check("/v1/ner", "POST", ner(`{"texts": ["a", "b", "c", "d", "e"]}`))
	check("/v1/ner", "POST", ner(`{"text": "PANIC"}`))
	check("/v1/models", "GET", do(t, ctx, "GET", url+"/v1/models", "", auth))
	check("/v1/models", "GET", do(t, ctx, "GET", url+"/v1/models", "", nil))
	check("/metrics", "GET", do(t, ctx, "GET", url+"/metrics", "", auth))
	check("/metrics", "GET", do(t, ctx, "GET", url+"/metrics", "", nil))
	check("/healthz", "GET", get(t, url, "/healthz"))
	check("/readyz", "GET", get(t, url, "/readyz"))

	// 503: a full queue, then shutting down.
	g := newFake("C").gated()
	o2 := DefaultOptions()
	o2.Models = []Model{fakeModel("m", g)}
	o2.MaxQueue, o2.MaxDocuments = 1, 1
	s2, url2 := startServer(t, o2)
	held := make(chan reply, 2)
	go func() { held <- post(t, url2, `{"text": "Um"}`) }()
	waitEntered(t, g, 1)
	go func() { held <- post(t, url2, `{"text": "Dois"}`) }()
	waitFor(t, "queued", func() bool { return queued(s2, "m", 0) == 1 })
	check("/v1/ner", "POST", post(t, url2, `{"text": "Três"}`))
	close(g.gate)
	<-held
	<-held
	s.Drain()
	check("/readyz", "GET", get(t, url, "/readyz"))

	// Every response in the spec was seen.
	var missing []string
	for path, item := range obj(sp["paths"]) {
		for method, op := range obj(item) {
			for status := range obj(obj(op)["responses"]) {
				key := fmt.Sprintf("%s %s %s", path, strings.ToUpper(method), status)
				if !seen[key] {
					missing = append(missing, key)
				}
			}
		}
	}
	sort.Strings(missing)
	assert.Empty(t, missing, "responses in the spec that no request produced")
}
