package progress

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Counter shows the progress of a job over a known number of items
// (documents, files): done/total, items and tokens per second, elapsed
// time and ETA, drawn as Bar draws (Options.Mode, Refresh, Interval,
// Prefix and Now apply; Smoothing and StartStep do not). ETA = elapsed /
// done × (total − done). Its methods are not safe for concurrent use.
type Counter struct {
	w      io.Writer
	unit   string
	total  int
	done   int
	tokens int64
	o      Options
	term   bool
	start  time.Time
	last   time.Time
	drawn  bool
	width  int
	err    error
}

// NewCounter returns a Counter of total items called unit ("documents")
// writing to w.
func NewCounter(w io.Writer, total int, unit string, o Options) *Counter {
	if o.Refresh <= 0 {
		o.Refresh = 250 * time.Millisecond
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	term := o.Mode == Terminal
	if o.Mode == Auto {
		term = IsTerminal(w)
	}
	return &Counter{w: w, unit: unit, total: total, o: o, term: term, start: o.Now()}
}

// Add records items more done and the tokens they held, and redraws when
// due.
func (c *Counter) Add(items int, tokens int64) {
	c.done += items
	c.tokens += tokens
	now := c.o.Now()
	due := c.o.Interval
	if c.term {
		due = c.o.Refresh
	}
	if !c.drawn || now.Sub(c.last) >= due {
		c.draw(now)
	}
}

// Line formats the current state (without \r or newline).
func (c *Counter) Line() string { return c.line(c.o.Now()) }

func (c *Counter) line(now time.Time) string {
	var sb strings.Builder
	if c.o.Prefix != "" {
		sb.WriteString(c.o.Prefix + " ")
	}
	if c.total > 0 {
		fmt.Fprintf(&sb, "%d/%d %s (%.1f%%)", c.done, c.total, c.unit, 100*float64(c.done)/float64(c.total))
	} else {
		fmt.Fprintf(&sb, "%d %s", c.done, c.unit)
	}
	elapsed := now.Sub(c.start)
	if secs := elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(&sb, " | %s/s", humanRate(float64(c.done)/secs))
		if c.tokens > 0 {
			fmt.Fprintf(&sb, " | %s tok/s", humanRate(float64(c.tokens)/secs))
		}
	}
	fmt.Fprintf(&sb, " | %s", clock(elapsed))
	if c.total > 0 && c.done > 0 && c.done <= c.total {
		fmt.Fprintf(&sb, " < %s", clock(time.Duration(float64(elapsed)/float64(c.done)*float64(c.total-c.done))))
	}
	return sb.String()
}

// Finish draws the final state and ends the line; it returns the first
// write error seen.
func (c *Counter) Finish() error {
	c.draw(c.o.Now())
	if c.term {
		c.write("\n")
	}
	return c.err
}

func (c *Counter) draw(now time.Time) {
	s := c.line(now)
	if c.term {
		pad := ""
		if n := c.width - len(s); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		c.width = len(s)
		c.write("\r" + s + pad)
	} else {
		c.write(s + "\n")
	}
	c.last, c.drawn = now, true
}

func (c *Counter) write(s string) {
	if _, err := io.WriteString(c.w, s); err != nil && c.err == nil {
		c.err = fmt.Errorf("progress: write: %w", err)
	}
}
