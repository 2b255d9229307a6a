package ner

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progressBar draws a one-line progress bar with loss, learning rate,
// tokens per second and the estimated time left on a terminal-like writer
// (carriage return, no cursor codes), at most ten times a second, and a line
// per epoch. A nil writer draws nothing.
type progressBar struct {
	w      io.Writer
	total  int
	start  time.Time
	first  int // step at start (resumed runs)
	last   time.Time
	drawn  bool
	now    func() time.Time
	minGap time.Duration
}

func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, total: total, now: time.Now, minGap: 100 * time.Millisecond, first: -1}
}

// update redraws the bar after step (1-based) of total.
func (p *progressBar) update(step, epoch int, loss, lr, tokensPerSec float64) {
	if p.w == nil {
		return
	}
	now := p.now()
	if p.first < 0 {
		p.first, p.start = step-1, now
	}
	if step < p.total && now.Sub(p.last) < p.minGap {
		return
	}
	p.last = now
	io.WriteString(p.w, "\r"+p.line(step, epoch, loss, lr, tokensPerSec, now))
	p.drawn = true
}

// line formats the bar.
func (p *progressBar) line(step, epoch int, loss, lr, tokensPerSec float64, now time.Time) string {
	const width = 24
	frac := 1.0
	if p.total > 0 {
		frac = min(1, float64(step)/float64(p.total))
	}
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	eta := "?"
	if done := step - p.first; done > 0 && p.total >= step {
		per := now.Sub(p.start) / time.Duration(done)
		eta = (per * time.Duration(p.total-step)).Round(time.Second).String()
	}
	return fmt.Sprintf("epoch %d [%s] %d/%d loss %.4f lr %.2e %.0f tok/s ETA %s ", epoch, bar, step, p.total, loss, lr, tokensPerSec, eta)
}

// epoch ends the bar's line and writes the epoch's summary.
func (p *progressBar) epoch(e EpochResult) {
	if p.w == nil {
		return
	}
	if p.drawn {
		io.WriteString(p.w, "\n")
		p.drawn = false
	}
	dev := ""
	if e.DevF1 >= 0 {
		dev = fmt.Sprintf(" dev P %.4f R %.4f F1 %.4f", e.DevPrecision, e.DevRecall, e.DevF1)
	}
	fmt.Fprintf(p.w, "epoch %d: step %d train loss %.4f%s (%.1fs)\n", e.Epoch, e.Step, e.TrainLoss, dev, e.Seconds)
}

// done ends the bar's line.
func (p *progressBar) done() {
	if p.w != nil && p.drawn {
		io.WriteString(p.w, "\n")
		p.drawn = false
	}
}
