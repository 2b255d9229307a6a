// Package serve is an HTTP service for clinical named-entity recognition
// with taggers fine-tuned by package ner: the handler behind `biobertpt
// serve`, for Go programs that mount it in their own server. It lives
// apart from package ner so that training and tagging do not pull in
// net/http and the Prometheus client.
//
// Endpoints: POST /v1/ner (one text, texts or documents; entities with
// offsets in Unicode code points, end exclusive, as ner.Entity), GET
// /v1/models, GET /healthz, GET /readyz and GET /metrics (Prometheus, the
// server's own registry).
//
// Contract:
//   - A Server is safe for concurrent requests. Each tagger has a queue
//     and one dispatching goroutine that tags the documents of concurrent
//     requests in shared batches (Options.MaxBatchTokens,
//     Options.MaxBatchWait), one PredictTexts call each, whose forward
//     passes run on the tagger's goroutine, locked to its OS thread.
//     Memory stays bounded by Options.MaxQueue, past which a request is
//     answered 503 with Retry-After.
//   - The models stay the caller's: Close stops the batchers (queued
//     documents get 503 shutting_down), not the taggers. Drain makes
//     /readyz answer 503. Shut the http.Server down before Close.
//   - Errors are JSON, {"error": {"code", "message"}}, with a fixed set of
//     codes; a failing batch is retried document by document, so one bad
//     document fails only its own request (500).
//   - Texts are never logged. With Options.Tokens, /v1/... and /metrics
//     need a bearer token (compared in constant time); TLS and the address
//     are the caller's http.Server's.
//
// docs/SERVE.md has the request and answer formats, every error code, the
// metrics, the batching rules and the access log.
package serve
