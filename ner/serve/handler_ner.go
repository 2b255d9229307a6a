package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/biobertpt-go/biobertpt/ner"
)

// Request is the body of POST /v1/ner: exactly one of Text, Texts and
// Documents, and optionally the model's name.
type Request struct {
	Model     string     `json:"model,omitempty"`
	Text      *string    `json:"text,omitempty"`
	Texts     []string   `json:"texts,omitempty"`
	Documents []Document `json:"documents,omitempty"`
}

// Document is one input document: an optional id, echoed in the answer,
// and its text.
type Document struct {
	ID   string `json:"id,omitempty"`
	Text string `json:"text"`
}

// Response is the answer of POST /v1/ner.
type Response struct {
	Model     string           `json:"model"`
	Documents []DocumentResult `json:"documents"`
}

// DocumentResult is the entities of one document, in input order.
type DocumentResult struct {
	Index    int          `json:"index"`
	ID       string       `json:"id,omitempty"`
	Entities []ner.Entity `json:"entities"`
}

// httpError is an error answer decided while reading a request.
type httpError struct {
	status        int
	code, message string
}

func (e *httpError) Error() string { return e.message }

func badRequest(code, format string, a ...any) *httpError {
	return &httpError{http.StatusBadRequest, code, fmt.Sprintf(format, a...)}
}

// readRequest reads and checks a POST /v1/ner body.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request, info *accessInfo) (*Request, []Document, *httpError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.o.MaxBodyBytes))
	info.bytesIn = int64(len(body))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, nil, &httpError{http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body over %d bytes", s.o.MaxBodyBytes)}
		}
		return nil, nil, badRequest("invalid_request", "read body: %v", err)
	}
	if !utf8.Valid(body) {
		off := 0
		for off < len(body) {
			r, size := utf8.DecodeRune(body[off:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			off += size
		}
		return nil, nil, badRequest("invalid_utf8", "request body is not valid UTF-8 (byte offset %d)", off)
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, badRequest("invalid_json", "unexpected data after the JSON object")
	}
	docs, herr := s.documents(&req)
	if herr != nil {
		return nil, nil, herr
	}
	return &req, docs, nil
}

// jsonError turns a decoding error into a 400 naming the field or offset.
func jsonError(err error) *httpError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return badRequest("invalid_json", "invalid JSON at byte offset %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return badRequest("invalid_request", "the body must be a JSON object, not %s", te.Value)
		}
		return badRequest("invalid_request", "field %q: got a JSON %s, want %s", field, te.Value, jsonType(te.Type.String()))
	case errors.Is(err, io.EOF):
		return badRequest("invalid_json", "empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("invalid_json", "truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("invalid_request", "%s (want text, texts or documents, and model)", strings.TrimPrefix(err.Error(), "json: "))
	}
	return badRequest("invalid_json", "%v", err)
}

func jsonType(goType string) string {
	switch {
	case goType == "string", goType == "*string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.Contains(goType, "Document"):
		return "an object"
	}
	return goType
}

// documents checks the request's shape and limits and returns its
// documents.
func (s *Server) documents(req *Request) ([]Document, *httpError) {
	n := 0
	var docs []Document
	if req.Text != nil {
		n++
		docs = []Document{{Text: *req.Text}}
	}
	if req.Texts != nil {
		n++
		if len(req.Texts) == 0 {
			return nil, badRequest("invalid_request", "texts is empty")
		}
		docs = make([]Document, len(req.Texts))
		for i, t := range req.Texts {
			docs[i] = Document{Text: t}
		}
	}
	if req.Documents != nil {
		n++
		if len(req.Documents) == 0 {
			return nil, badRequest("invalid_request", "documents is empty")
		}
		docs = req.Documents
	}
	switch {
	case n == 0:
		return nil, badRequest("invalid_request", "give one of text, texts or documents")
	case n > 1:
		return nil, badRequest("invalid_request", "give only one of text, texts or documents")
	case len(docs) > s.o.MaxDocuments:
		return nil, &httpError{http.StatusRequestEntityTooLarge, "too_many_documents", fmt.Sprintf("%d documents: at most %d per request", len(docs), s.o.MaxDocuments)}
	}
	for i, d := range docs {
		where := "text"
		switch {
		case req.Texts != nil:
			where = "texts[" + strconv.Itoa(i) + "]"
		case req.Documents != nil:
			where = "documents[" + strconv.Itoa(i) + "].text"
		}
		if strings.TrimSpace(d.Text) == "" {
			return nil, badRequest("invalid_request", "%s is empty", where)
		}
		if c := utf8.RuneCountInString(d.Text); c > s.o.MaxChars {
			return nil, &httpError{http.StatusRequestEntityTooLarge, "text_too_long", fmt.Sprintf("%s has %d characters: at most %d", where, c, s.o.MaxChars)}
		}
	}
	return docs, nil
}

// ner answers POST /v1/ner.
func (s *Server) ner(w http.ResponseWriter, r *http.Request, info *accessInfo) {
	req, docs, herr := s.readRequest(w, r, info)
	if herr != nil {
		writeError(w, herr.status, herr.code, herr.message)
		return
	}
	name := req.Model
	if name == "" {
		name = s.order[0].name
	}
	sv, ok := s.models[name]
	if !ok {
		writeError(w, http.StatusNotFound, "model_not_found", fmt.Sprintf("no model %q (GET /v1/models lists them)", name))
		return
	}
	info.model, info.documents = name, len(docs)
	for _, d := range docs {
		info.chars += utf8.RuneCountInString(d.Text)
	}
	if s.closed.Load() {
		s.unavailable(w, "shutting_down", errShuttingDown.Error())
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel() // drops this request's queued documents on every return
	seq := s.reqSeq.Add(1)
	results := make(chan result, len(docs)*len(sv.batchers))
	for ti, b := range sv.batchers {
		jobs := make([]*job, len(docs))
		for i, d := range docs {
			jobs[i] = &job{ctx: ctx, req: seq, index: i, text: d.Text, tokens: sv.taggers[ti].CountTokens(d.Text) + 2, done: results}
		}
		if err := b.submit(jobs); err != nil {
			if errors.Is(err, errClosed) {
				s.unavailable(w, "shutting_down", errShuttingDown.Error())
			} else {
				s.unavailable(w, "overloaded", fmt.Sprintf("model %s: queue full (%d documents waiting at most); retry later", name, s.o.MaxQueue))
			}
			return
		}
	}

	out := make([][]ner.Entity, len(docs))
	for range len(docs) * len(sv.batchers) {
		var res result
		select {
		case res = <-results:
		case <-r.Context().Done():
			return // the client is gone; cancel drops what is still queued
		}
		switch {
		case res.err == nil:
			out[res.index] = append(out[res.index], res.ents...)
		case errors.Is(res.err, errClosed):
			s.unavailable(w, "shutting_down", errShuttingDown.Error())
			return
		case ctxDone(r.Context()):
			return
		default:
			info.err = res.err.Error()
			writeError(w, http.StatusInternalServerError, "internal", fmt.Sprintf("tagging document %d failed", res.index))
			return
		}
	}
	resp := Response{Model: name, Documents: make([]DocumentResult, len(docs))}
	for i, d := range docs {
		ents := out[i]
		if ents == nil {
			ents = []ner.Entity{}
		}
		if len(sv.batchers) > 1 {
			sortEntities(ents)
		}
		resp.Documents[i] = DocumentResult{Index: i, ID: d.ID, Entities: ents}
	}
	writeJSON(w, http.StatusOK, resp)
}

// unavailable answers 503 with Retry-After.
func (s *Server) unavailable(w http.ResponseWriter, code, msg string) {
	secs := int((s.o.RetryAfter + 999_999_999) / 1_000_000_000)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	writeError(w, http.StatusServiceUnavailable, code, msg)
}
