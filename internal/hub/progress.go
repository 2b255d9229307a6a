package hub

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress draws one file's download progress: name, bytes, percentage and
// speed. On a terminal the line is redrawn with '\r' at most every 150 ms;
// elsewhere a line is written at most every 5 s and at the end.
type progress struct {
	w        io.Writer
	name     string
	start    int64 // bytes present when this attempt began
	total    int64 // -1 when unknown
	began    time.Time
	last     time.Time
	cur      int64
	terminal bool
	every    time.Duration
}

func newProgress(w io.Writer, name string, start, total int64) *progress {
	p := &progress{w: w, name: name, start: start, total: total, cur: start, began: time.Now(), every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.terminal, p.every = true, 150*time.Millisecond
		}
	}
	p.last = p.began
	if w != nil && p.terminal {
		p.draw()
	}
	return p
}

func (p *progress) update(n int64) {
	p.cur = n
	if p.w == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.draw()
	}
}

// done draws the final line; ok=false marks an interrupted transfer.
func (p *progress) done(ok bool) {
	if p.w == nil {
		return
	}
	p.draw()
	if !ok {
		fmt.Fprint(p.w, " interrupted")
	}
	if p.terminal {
		fmt.Fprint(p.w, "\n")
	}
}

func (p *progress) draw() {
	line := p.line(time.Since(p.began))
	if p.terminal {
		fmt.Fprintf(p.w, "\r%-78s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// line formats "name  12.0 MB / 700.0 MB   2%  3.1 MB/s".
func (p *progress) line(elapsed time.Duration) string {
	speed := ""
	if s := elapsed.Seconds(); s > 0 {
		speed = humanBytes(int64(float64(p.cur-p.start)/s)) + "/s"
	}
	if p.total > 0 {
		pct := 100 * float64(p.cur) / float64(p.total)
		return fmt.Sprintf("%s  %s / %s  %3.0f%%  %s", p.name, humanBytes(p.cur), humanBytes(p.total), pct, speed)
	}
	return fmt.Sprintf("%s  %s  %s", p.name, humanBytes(p.cur), speed)
}

// humanBytes writes n in B, kB, MB or GB (powers of 1000, as the Hub shows sizes).
func humanBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}
