package progress

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"
)

// Mode selects how a Bar draws.
type Mode int

// Drawing modes.
const (
	Auto     Mode = iota // Terminal when the writer is a character device, else Plain
	Terminal             // one line rewritten with \r
	Plain                // a full line every Interval
)

// Options configures a Bar; the zero value gives the documented defaults.
type Options struct {
	Mode      Mode             // Auto
	Refresh   time.Duration    // minimum time between terminal redraws; 0 = 250ms
	Interval  time.Duration    // time between plain lines; 0 = 30s
	Smoothing float64          // weight of the newest loss in the average; 0 = 0.05
	StartStep int              // step a resumed run starts from (for rate and ETA)
	Prefix    string           // printed before each line, e.g. "train"
	Now       func() time.Time // clock; nil = time.Now
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.Refresh < 0:
		return fmt.Errorf("progress: Options.Refresh %v < 0", o.Refresh)
	case o.Interval < 0:
		return fmt.Errorf("progress: Options.Interval %v < 0", o.Interval)
	case !(o.Smoothing >= 0 && o.Smoothing <= 1):
		return fmt.Errorf("progress: Options.Smoothing %v not in [0, 1]", o.Smoothing)
	case o.StartStep < 0:
		return fmt.Errorf("progress: Options.StartStep %d < 0", o.StartStep)
	case o.Mode < Auto || o.Mode > Plain:
		return fmt.Errorf("progress: Options.Mode %d unknown", o.Mode)
	}
	return nil
}

// Fields are the values of one update.
type Fields struct {
	Loss   float64            // loss of this update (NaN: none)
	LR     float64            // learning rate used
	Tokens int64              // tokens processed since the previous Update
	Epoch  float64            // fractional epoch
	Extra  map[string]float64 // shown sorted by name, e.g. {"f1": 0.81}
}

// Bar is a progress display. Its methods are not safe for concurrent use.
type Bar struct {
	w       io.Writer
	total   int
	o       Options
	term    bool
	start   time.Time
	last    time.Time // last draw
	drawn   bool
	step    int
	f       Fields
	tokens  int64
	ema     float64
	nLoss   int
	lineLen int
	err     error
}

// New returns a Bar writing to w for a job of total steps (0 or less: no
// total, no ETA). Invalid options are replaced by defaults where they are
// out of range (see Options.Validate to check them first).
func New(w io.Writer, total int, o Options) *Bar {
	if o.Refresh <= 0 {
		o.Refresh = 250 * time.Millisecond
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if !(o.Smoothing > 0 && o.Smoothing <= 1) {
		o.Smoothing = 0.05
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StartStep < 0 {
		o.StartStep = 0
	}
	term := o.Mode == Terminal
	if o.Mode == Auto {
		term = IsTerminal(w)
	}
	now := o.Now()
	return &Bar{w: w, total: total, o: o, term: term, start: now, step: o.StartStep, ema: 0}
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Update records the state after step steps and redraws when due.
func (b *Bar) Update(step int, f Fields) {
	b.step = step
	b.f = f
	b.tokens += f.Tokens
	if !math.IsNaN(f.Loss) && !math.IsInf(f.Loss, 0) {
		beta := 1 - b.o.Smoothing
		b.ema = beta*b.ema + (1-beta)*f.Loss
		b.nLoss++
	}
	now := b.o.Now()
	due := b.o.Interval
	if b.term {
		due = b.o.Refresh
	}
	if !b.drawn || now.Sub(b.last) >= due {
		b.draw(now)
	}
}

// Loss returns the smoothed loss (NaN before the first finite loss).
func (b *Bar) Loss() float64 {
	if b.nLoss == 0 {
		return math.NaN()
	}
	return b.ema / (1 - math.Pow(1-b.o.Smoothing, float64(b.nLoss)))
}

// Finish draws the final state and ends the line. It returns the first
// write error seen.
func (b *Bar) Finish() error {
	b.draw(b.o.Now())
	if b.term {
		b.write("\n")
	}
	return b.err
}

// Line formats the current state (without \r or newline).
func (b *Bar) Line() string { return b.line(b.o.Now()) }

func (b *Bar) line(now time.Time) string {
	var sb strings.Builder
	if b.o.Prefix != "" {
		sb.WriteString(b.o.Prefix)
		sb.WriteString(" ")
	}
	elapsed := now.Sub(b.start)
	if b.total > 0 {
		fmt.Fprintf(&sb, "step %d/%d (%.1f%%)", b.step, b.total, 100*float64(b.step)/float64(b.total))
	} else {
		fmt.Fprintf(&sb, "step %d", b.step)
	}
	fmt.Fprintf(&sb, " | epoch %.2f", b.f.Epoch)
	if l := b.Loss(); !math.IsNaN(l) {
		fmt.Fprintf(&sb, " | loss %.4f", l)
	}
	fmt.Fprintf(&sb, " | lr %.3g", b.f.LR)
	if secs := elapsed.Seconds(); secs > 0 && b.tokens > 0 {
		fmt.Fprintf(&sb, " | %s tok/s", humanRate(float64(b.tokens)/secs))
	}
	fmt.Fprintf(&sb, " | %s", clock(elapsed))
	if done := b.step - b.o.StartStep; b.total > 0 && done > 0 && b.step <= b.total {
		eta := time.Duration(float64(elapsed) / float64(done) * float64(b.total-b.step))
		fmt.Fprintf(&sb, " < %s", clock(eta))
	}
	if len(b.f.Extra) > 0 {
		keys := make([]string, 0, len(b.f.Extra))
		for k := range b.f.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&sb, " | %s %.4g", k, b.f.Extra[k])
		}
	}
	return sb.String()
}

func (b *Bar) draw(now time.Time) {
	s := b.line(now)
	if b.term {
		pad := ""
		if n := b.lineLen - len(s); n > 0 {
			pad = strings.Repeat(" ", n) // clear the rest of a longer previous line
		}
		b.lineLen = len(s)
		b.write("\r" + s + pad)
	} else {
		b.write(s + "\n")
	}
	b.last = now
	b.drawn = true
}

func (b *Bar) write(s string) {
	if _, err := io.WriteString(b.w, s); err != nil && b.err == nil {
		b.err = fmt.Errorf("progress: write: %w", err)
	}
}

// clock formats a duration as H:MM:SS (D days + H:MM:SS beyond a day).
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d.Round(time.Second) / time.Second)
	h, m, sec := s/3600, s/60%60, s%60
	if h >= 24 {
		return fmt.Sprintf("%dd%02d:%02d:%02d", h/24, h%24, m, sec)
	}
	return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
}

// humanRate formats a rate with a k/M suffix.
func humanRate(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}
