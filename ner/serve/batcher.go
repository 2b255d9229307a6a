package serve

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/biobertpt-go/biobertpt/ner"
)

var (
	// errQueueFull is a request that does not fit in a tagger's queue.
	errQueueFull = errors.New("serve: queue full")
	// errClosed is a document still queued when the server closed.
	errClosed = errors.New("serve: server closed")
)

// panicError is a panic recovered while tagging.
type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprintf("serve: panic while tagging: %v", p.v) }

// job is one document of one request for one tagger.
type job struct {
	ctx    context.Context // the request's; done = drop the job
	req    uint64          // request sequence number
	index  int             // the document's index in the request
	text   string
	tokens int
	enq    time.Time
	done   chan<- result // buffered for every job of the request
}

// result is a job's answer.
type result struct {
	tagger, index int
	ents          []ner.Entity
	err           error
}

// batcher queues the documents of one tagger and tags them in batches on
// one dispatching goroutine.
type batcher struct {
	tg       Tagger
	idx      int // the tagger's index in its model
	o        Options
	m        *metrics
	model    string // metric labels
	group    string
	active   func() int64 // requests to POST /v1/ner being answered
	mu       sync.Mutex
	queue    []*job
	closed   bool
	wake     chan struct{} // capacity 1: "the queue changed"
	finished chan struct{} // closed when the loop has returned
}

func newBatcher(tg Tagger, idx int, model, group string, o Options, m *metrics, active func() int64) *batcher {
	b := &batcher{tg: tg, idx: idx, o: o, m: m, model: model, group: group, active: active, wake: make(chan struct{}, 1), finished: make(chan struct{})}
	go b.loop()
	return b
}

// submit queues jobs, all or none: errQueueFull when they do not fit,
// errClosed after close.
func (b *batcher) submit(jobs []*job) error {
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return errClosed
	case len(b.queue)+len(jobs) > b.o.MaxQueue:
		b.mu.Unlock()
		return errQueueFull
	}
	now := time.Now()
	for _, j := range jobs {
		j.enq = now
	}
	b.queue = append(b.queue, jobs...)
	b.m.queueDepth.WithLabelValues(b.model, b.group).Set(float64(len(b.queue)))
	b.mu.Unlock()
	b.signal()
	return nil
}

func (b *batcher) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// close answers the queued jobs with errClosed, stops the loop and waits
// for the batch in progress.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, j := range b.queue {
			j.done <- result{tagger: b.idx, index: j.index, err: errClosed}
		}
		b.queue = nil
		b.m.queueDepth.WithLabelValues(b.model, b.group).Set(0)
	}
	b.mu.Unlock()
	b.signal()
	<-b.finished
}

// loop gathers and runs batches until close.
func (b *batcher) loop() {
	defer close(b.finished)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		batch, tokens, full, ok := b.take(nil, 0)
		if !ok {
			return
		}
		if len(batch) == 0 {
			<-b.wake
			continue
		}
		// Wait for more documents until the budget is full or the first
		// document has waited MaxBatchWait, as long as some request being
		// answered has not queued its documents yet (a lone client does
		// not wait for company that cannot come).
		for !full && !b.o.NoBatching && b.o.MaxBatchWait > 0 && b.othersComing(batch) {
			left := time.Until(batch[0].enq.Add(b.o.MaxBatchWait))
			if left <= 0 {
				break
			}
			timer.Reset(left)
			select {
			case <-b.wake:
				timer.Stop()
			case <-timer.C:
			}
			batch, tokens, full, _ = b.take(batch, tokens)
		}
		b.run(batch, tokens)
	}
}

// othersComing reports whether more requests are being answered than
// the batch and the queue hold.
func (b *batcher) othersComing(batch []*job) bool {
	n := int64(distinctRequests(batch))
	b.mu.Lock()
	n += int64(distinctRequests(b.queue))
	b.mu.Unlock()
	return b.active() > n
}

// distinctRequests counts the requests of jobs; a request's jobs are
// adjacent (submit queues them together).
func distinctRequests(jobs []*job) int {
	n := 0
	for i, j := range jobs {
		if i == 0 || j.req != jobs[i-1].req {
			n++
		}
	}
	return n
}

// take moves jobs from the queue into batch while they fit in the token
// budget (the first job always fits) and, with NoBatching, belong to the
// batch's request; full reports that the next job did not fit. Jobs whose
// request is gone are answered with its context's error and dropped. ok is
// false when the batcher is closed and batch is empty.
func (b *batcher) take(batch []*job, tokens int) (_ []*job, _ int, full, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed && len(batch) == 0 {
		return nil, 0, false, false
	}
	n := 0
	for ; n < len(b.queue); n++ {
		j := b.queue[n]
		if err := j.ctx.Err(); err != nil {
			b.m.cancelled.WithLabelValues(b.model, b.group).Inc()
			j.done <- result{tagger: b.idx, index: j.index, err: err}
			continue
		}
		if len(batch) > 0 && (tokens+j.tokens > b.o.MaxBatchTokens || b.o.NoBatching && j.req != batch[0].req) {
			full = true
			break
		}
		batch = append(batch, j)
		tokens += j.tokens
	}
	b.queue = slices.Delete(b.queue, 0, n) // zeroes the tail: no job stays referenced
	b.m.queueDepth.WithLabelValues(b.model, b.group).Set(float64(len(b.queue)))
	return batch, tokens, full || tokens >= b.o.MaxBatchTokens, true
}

// run tags a batch and answers its jobs. When the batch fails, each
// request's jobs are tagged again on their own, so that the failure is
// answered only to the request that causes it.
func (b *batcher) run(batch []*job, tokens int) {
	start := time.Now()
	ents, err := b.predict(batch)
	if err != nil && multipleRequests(batch) {
		for _, part := range byRequest(batch) {
			b.answer(part, b.predictOrErr(part))
		}
		return
	}
	if err == nil {
		b.observe(len(batch), tokens, time.Since(start))
	}
	b.answer(batch, resultsOf(ents, err, len(batch)))
}

func (b *batcher) predictOrErr(batch []*job) []result {
	ents, err := b.predict(batch)
	return resultsOf(ents, err, len(batch))
}

func resultsOf(ents [][]ner.Entity, err error, n int) []result {
	out := make([]result, n)
	for i := range out {
		if err != nil {
			out[i].err = err
		} else {
			out[i].ents = ents[i]
		}
	}
	return out
}

func (b *batcher) answer(batch []*job, rs []result) {
	for i, j := range batch {
		r := rs[i]
		r.tagger, r.index = b.idx, j.index
		j.done <- r
	}
}

// predict calls the tagger, turning a panic into an error.
func (b *batcher) predict(batch []*job) (ents [][]ner.Entity, err error) {
	defer func() {
		if v := recover(); v != nil {
			ents, err = nil, panicError{v}
		}
	}()
	texts := make([]string, len(batch))
	for i, j := range batch {
		texts[i] = j.text
	}
	ents, err = b.tg.PredictTexts(context.Background(), texts)
	if err == nil && len(ents) != len(texts) {
		err = fmt.Errorf("serve: tagger answered %d texts for %d", len(ents), len(texts))
	}
	return ents, err
}

func (b *batcher) observe(docs, tokens int, d time.Duration) {
	b.m.batchDocs.WithLabelValues(b.model, b.group).Observe(float64(docs))
	b.m.batchTokens.WithLabelValues(b.model, b.group).Observe(float64(tokens))
	b.m.tokens.WithLabelValues(b.model, b.group).Add(float64(tokens))
	if s := d.Seconds(); s > 0 {
		b.m.tokensPerSec.WithLabelValues(b.model, b.group).Set(float64(tokens) / s)
	}
}

func multipleRequests(batch []*job) bool {
	for _, j := range batch[1:] {
		if j.req != batch[0].req {
			return true
		}
	}
	return false
}

// byRequest splits a batch into its requests' jobs, in order of first
// appearance.
func byRequest(batch []*job) [][]*job {
	var out [][]*job
	pos := map[uint64]int{}
	for _, j := range batch {
		k, ok := pos[j.req]
		if !ok {
			k = len(out)
			pos[j.req] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], j)
	}
	return out
}
