package serve

import (
	"fmt"
	"log/slog"
	"time"
)

// Options configures New. Start from DefaultOptions(); zero sizes and
// durations take their defaults.
type Options struct {
	// Models are the models served; the first answers requests that name
	// none. Names must be distinct and non-empty.
	Models []Model

	// MaxBatchTokens is the most sub-tokens of documents packed into one
	// PredictTexts call; a larger document is tagged alone. Default 4096.
	MaxBatchTokens int
	// MaxBatchWait is how long the first document of a batch waits for
	// others to join it. Default 2ms; negative: no wait (a batch is what
	// is queued at that moment).
	MaxBatchWait time.Duration
	// NoBatching tags each request's documents alone, never packed with
	// another request's (for comparison; MaxBatchTokens still splits a
	// large request).
	NoBatching bool
	// MaxQueue is the most documents waiting per tagger; a request whose
	// documents do not fit is answered 503 with Retry-After. Default 1024.
	MaxQueue int
	// RetryAfter is the Retry-After of a 503, rounded up to seconds.
	// Default 1s.
	RetryAfter time.Duration

	// MaxBodyBytes is the largest request body; larger is 413. Default
	// 1 MiB.
	MaxBodyBytes int64
	// MaxChars is the most Unicode code points of one text; more is 413.
	// Default 100,000.
	MaxChars int
	// MaxDocuments is the most documents of one request; more is 413.
	// Default 256, at most MaxQueue.
	MaxDocuments int

	// Tokens are the accepted bearer tokens of /v1/... and /metrics; none:
	// no authentication.
	Tokens []string
	// Logger receives one access-log record per request (never a text);
	// nil: none.
	Logger *slog.Logger
}

// DefaultOptions returns the defaults: batches of up to 4096 sub-tokens
// gathered for up to 2ms, 1024 documents queued per tagger, Retry-After 1s,
// bodies up to 1 MiB, texts up to 100,000 characters, 256 documents a
// request, no authentication, no access log.
func DefaultOptions() Options {
	return Options{
		MaxBatchTokens: 4096,
		MaxBatchWait:   2 * time.Millisecond,
		MaxQueue:       1024,
		RetryAfter:     time.Second,
		MaxBodyBytes:   1 << 20,
		MaxChars:       100_000,
		MaxDocuments:   256,
	}
}

// withDefaults fills zero fields.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxBatchTokens == 0 {
		o.MaxBatchTokens = d.MaxBatchTokens
	}
	if o.MaxBatchWait == 0 {
		o.MaxBatchWait = d.MaxBatchWait
	}
	if o.MaxQueue == 0 {
		o.MaxQueue = d.MaxQueue
	}
	if o.RetryAfter == 0 {
		o.RetryAfter = d.RetryAfter
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = d.MaxBodyBytes
	}
	if o.MaxChars == 0 {
		o.MaxChars = d.MaxChars
	}
	if o.MaxDocuments == 0 {
		o.MaxDocuments = min(d.MaxDocuments, o.MaxQueue)
	}
	return o
}

// Validate reports the first invalid field (after defaults are applied).
func (o Options) Validate() error {
	switch {
	case len(o.Models) == 0:
		return fmt.Errorf("serve: options: Models: none")
	case o.MaxBatchTokens < 1:
		return fmt.Errorf("serve: options: MaxBatchTokens %d: want >= 1", o.MaxBatchTokens)
	case o.MaxQueue < 1:
		return fmt.Errorf("serve: options: MaxQueue %d: want >= 1", o.MaxQueue)
	case o.RetryAfter < 0:
		return fmt.Errorf("serve: options: RetryAfter %v: want >= 0", o.RetryAfter)
	case o.MaxBodyBytes < 1:
		return fmt.Errorf("serve: options: MaxBodyBytes %d: want >= 1", o.MaxBodyBytes)
	case o.MaxChars < 1:
		return fmt.Errorf("serve: options: MaxChars %d: want >= 1", o.MaxChars)
	case o.MaxDocuments < 1 || o.MaxDocuments > o.MaxQueue:
		return fmt.Errorf("serve: options: MaxDocuments %d: want 1..MaxQueue (%d)", o.MaxDocuments, o.MaxQueue)
	}
	seen := map[string]bool{}
	for i, m := range o.Models {
		switch {
		case m.Name == "":
			return fmt.Errorf("serve: options: Models[%d]: empty name", i)
		case seen[m.Name]:
			return fmt.Errorf("serve: options: Models[%d]: name %q given twice", i, m.Name)
		case len(m.Taggers) == 0:
			return fmt.Errorf("serve: options: Models[%d] (%s): no taggers", i, m.Name)
		}
		for j, tg := range m.Taggers {
			if tg == nil {
				return fmt.Errorf("serve: options: Models[%d] (%s): Taggers[%d] is nil", i, m.Name, j)
			}
		}
		seen[m.Name] = true
	}
	for i, t := range o.Tokens {
		if t == "" {
			return fmt.Errorf("serve: options: Tokens[%d]: empty token", i)
		}
	}
	return nil
}
