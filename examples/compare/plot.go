package main

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/biobertpt-go/biobertpt/examples/internal/palette"
)

// ciBars draws vertical interval bars at data x positions shifted by a
// fixed canvas offset (to sit on the bars of one model in a grouped chart,
// which plotter.YErrorBars cannot do).
type ciBars struct {
	x, lo, hi []float64
	offset    vg.Length
	cap       vg.Length
	style     draw.LineStyle
}

// Plot implements plot.Plotter.
func (e *ciBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range e.x {
		x := trX(e.x[i]) + e.offset
		lo, hi := trY(e.lo[i]), trY(e.hi[i])
		c.StrokeLine2(e.style, x, lo, x, hi)
		c.StrokeLine2(e.style, x-e.cap/2, lo, x+e.cap/2, lo)
		c.StrokeLine2(e.style, x-e.cap/2, hi, x+e.cap/2, hi)
	}
}

// drawChart saves a grouped bar chart of one corpus's F1 per entity type
// (and micro F1 last), one bar per model, with the bootstrap intervals as
// error bars, to path (PNG, SVG or PDF by extension).
func drawChart(ca *CorpusAnalysis, path string) (err error) {
	defer func() {
		if r := recover(); r != nil { // gonum/plot panics on some degenerate inputs
			err = fmt.Errorf("chart %s: %v", path, r)
		}
	}()
	cats := append(append([]string{}, ca.Types...), "micro")
	n, k := len(cats), len(ca.Models)
	width := vg.Length(math.Min(16, math.Max(8, 1.5+0.18*float64(n*k)+0.2*float64(n)))) * vg.Inch
	height := 5 * vg.Inch
	groupW := 0.8 * (width - 1.2*vg.Inch) / vg.Length(n)
	barW := groupW / vg.Length(k)

	p := plot.New()
	p.Title.Text = "F1 per entity type — " + ca.Corpus
	p.Y.Label.Text = "F1"
	p.Legend.Top = true
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	for i, r := range ca.Models {
		vals := make(plotter.Values, n)
		ci := &ciBars{cap: barW / 3, style: draw.LineStyle{Color: color.Black, Width: vg.Points(1)}}
		for j := range cats {
			c := ca.Micro[i]
			if j < len(ca.Types) {
				c = ca.TypeCI[i][j]
			}
			vals[j] = c.F1
			if c.OK {
				ci.x = append(ci.x, float64(j))
				ci.lo = append(ci.lo, c.Lower)
				ci.hi = append(ci.hi, c.Upper)
			}
		}
		bars, err := plotter.NewBarChart(vals, barW)
		if err != nil {
			return fmt.Errorf("chart %s: %w", path, err)
		}
		bars.Color = palette.Color(i)
		bars.LineStyle.Width = vg.Length(0)
		bars.Offset = -groupW/2 + barW*(vg.Length(i)+0.5)
		ci.offset = bars.Offset
		p.Add(bars, ci)
		p.Legend.Add(fmt.Sprintf("(%s) %s", letter(i), r.Model), bars)
	}
	p.NominalX(cats...)
	long := false
	for _, c := range cats {
		long = long || len(c) > 8
	}
	if long {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = 0, 1.15 // room for the legend above the bars
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{
		{Value: 0, Label: "0"}, {Value: 0.2, Label: "0.2"}, {Value: 0.4, Label: "0.4"},
		{Value: 0.6, Label: "0.6"}, {Value: 0.8, Label: "0.8"}, {Value: 1, Label: "1"},
	})
	return palette.Save(p, width, height, path)
}
