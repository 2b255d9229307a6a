// Package serve is an HTTP service for clinical named-entity recognition
// with taggers fine-tuned by package ner: the handler behind `biobertpt
// serve`, for Go programs that mount it in their own server.
//
// It lives apart from package ner so that training and tagging do not pull
// in net/http and the Prometheus client.
//
// # Endpoints
//
//   - POST /v1/ner: {"text": "..."}, {"texts": ["...", ...]} or
//     {"documents": [{"id": "...", "text": "..."}, ...]}, with an optional
//     "model" (default: the first model). The answer has one entry per
//     document, in input order: {"index", "id", "entities": [{"type",
//     "text", "start", "end", "score"}]}, offsets in Unicode code points of
//     the document's text, end exclusive (ner.Entity). Each text is tagged
//     as ner.Tagger.Predict tags it (sentences, windows of MaxLen
//     sub-tokens). A model made of several taggers (one binary model per
//     SemClinBr entity group) answers with every tagger's entities, sorted
//     by start, end and type; they may overlap (multi-label).
//   - GET /v1/models: name, labels, entity types, scheme, maximum length,
//     word splitter and groups of each model.
//   - GET /healthz: 200 while the process runs. GET /readyz: 200 once the
//     models are loaded, 503 after Drain or Close.
//   - GET /metrics: Prometheus text format from the server's own registry
//     (client_golang): requests by handler and code, request latency,
//     documents and tokens per batch, queue depth, tokens tagged, tokens
//     per second of the last batch, documents cancelled, Go and process
//     collectors.
//
// Errors are JSON, {"error": {"code": "...", "message": "..."}}: 400
// (invalid_json, invalid_utf8, invalid_request), 401 (unauthorized, with
// Options.Tokens), 404 (model_not_found, not_found), 405
// (method_not_allowed), 413 (body_too_large, text_too_long,
// too_many_documents), 500 (internal: a panic or a model error, for the
// request it happened in only), 503 (overloaded, with Retry-After;
// shutting_down). A request whose client went away before its answer is
// counted and logged with status 499. Every response carries X-Request-ID (the client's, when
// it is 1 to 64 characters of [A-Za-z0-9._-], else a new one).
//
// # Batching
//
// Each tagger has a queue and one dispatching goroutine. The documents of
// concurrent requests are queued in arrival order; the dispatcher takes
// documents until the next would pass Options.MaxBatchTokens sub-tokens
// (a larger document goes alone), waiting at most Options.MaxBatchWait
// after the first one for more to arrive while other requests are being
// read (a lone client never waits), and tags them with one
// PredictTexts call: one set of forward passes on the tagger's goroutine,
// which is locked to its OS thread as libtorch requires. A request whose
// documents do not fit in the queue (Options.MaxQueue documents waiting
// per tagger) is answered 503 with Retry-After at once, so memory stays
// bounded. When a client disconnects, its documents still waiting are
// dropped from the queue; a batch already running finishes. When a batch
// fails or panics, each of its requests is retried alone, so that one bad
// document fails only its own request (500).
//
// # Security
//
// Texts are never logged: the access log (log/slog) records the request
// id, method, path, status, body sizes, documents, model and latency.
// With Options.Tokens, /v1/... and /metrics need "Authorization: Bearer
// <token>", compared in constant time; /healthz and /readyz stay open for
// probes. TLS and the listening address are the caller's http.Server's
// (`biobertpt serve` binds to 127.0.0.1 unless told otherwise).
package serve
