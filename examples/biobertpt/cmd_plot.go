package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/biobertpt-go/biobertpt/examples/internal/cli"
	"github.com/biobertpt-go/biobertpt/examples/internal/palette"
)

func init() {
	register(command{name: "plot", summary: "draw training curves (loss, validation loss, learning rate, dev F1) of runs and seed sweeps as PNG and SVG", run: runPlot})
}

const plotUsage = `[-out DIR] [-format png,svg] RUN...

Reads the metrics.jsonl of each RUN (a train-ner, ner-clinpt, ner-semclinbr
or pretrain output directory, or a train-ner -seeds sweep: every seed's run)
and draws, with every run overlaid (one colour per RUN, one dash pattern per
seed of a sweep, the Okabe–Ito palette):

  train_loss  training loss per optimizer step (the logged steps)
  val_loss    validation loss: NER dev loss per epoch, pretraining's
              held-out masked-LM loss
  lr          learning rate per step
  dev_f1      dev micro F1 per epoch (NER)

into -out as train_loss.png, train_loss.svg, ... A chart without data in
any run is skipped.`

// curveRun is one run's curves.
type curveRun struct {
	label, group string
	seedIndex    int // dash pattern: 0 for a single run, the seed's index in a sweep
	loss, lr     plotter.XYs
	valLoss      plotter.XYs
	devF1        plotter.XYs
}

func runPlot(e *env, args []string) error {
	fs := newFlags(e, "plot", plotUsage)
	out := fs.String("out", "plots", "output directory (created)")
	formats := fs.String("format", "png,svg", "image formats, comma-separated: png, svg, pdf")
	if err := cli.ParseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("plot %s", plotUsage)
	}
	var exts []string
	for _, f := range strings.Split(*formats, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f != "png" && f != "svg" && f != "pdf" {
			return usagef("-format %q: want png, svg or pdf, comma-separated", *formats)
		}
		exts = append(exts, f)
	}
	var runs []*curveRun
	for _, arg := range fs.Args() {
		rs, err := loadCurves(arg, plotLabel(arg, fs.Args()))
		if err != nil {
			return err
		}
		runs = append(runs, rs...)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	charts := []struct {
		name, title, x, y string
		pick              func(*curveRun) plotter.XYs
		legendBottom      bool
	}{
		{"train_loss", "Training loss", "optimizer step", "loss", func(r *curveRun) plotter.XYs { return r.loss }, false},
		{"val_loss", "Validation loss", "optimizer step", "loss", func(r *curveRun) plotter.XYs { return r.valLoss }, false},
		{"lr", "Learning rate", "optimizer step", "learning rate", func(r *curveRun) plotter.XYs { return r.lr }, false},
		{"dev_f1", "Dev micro F1", "epoch", "F1", func(r *curveRun) plotter.XYs { return r.devF1 }, true},
	}
	for _, c := range charts {
		p, ok, err := curveChart(runs, c.title, c.x, c.y, c.pick, c.legendBottom)
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(e.stderr, "plot: no %s in any run, skipped\n", c.name)
			continue
		}
		for _, ext := range exts {
			path := filepath.Join(*out, c.name+"."+ext)
			if err := palette.Save(p, 8*vg.Inch, 5*vg.Inch, path); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, path)
		}
	}
	return nil
}

// plotLabel names a RUN argument in the legends: its base name, or the
// path as given when another argument has the same base name.
func plotLabel(arg string, all []string) string {
	base := filepath.Base(filepath.Clean(arg))
	for _, a := range all {
		if a != arg && filepath.Base(filepath.Clean(a)) == base {
			return filepath.Clean(arg)
		}
	}
	return base
}

// loadCurves reads a run directory, or every run of a sweep directory
// (summary.json).
func loadCurves(dir, label string) ([]*curveRun, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if errors.Is(err, os.ErrNotExist) {
		r, err := readCurves(filepath.Join(dir, "metrics.jsonl"))
		if err != nil {
			return nil, err
		}
		r.label, r.group = label, label
		return []*curveRun{r}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	var s struct {
		Runs []struct {
			Seed int64  `json:"seed"`
			Dir  string `json:"dir"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", filepath.Join(dir, "summary.json"), err)
	}
	var out []*curveRun
	for i, run := range s.Runs {
		r, err := readCurves(filepath.Join(dir, run.Dir, "metrics.jsonl"))
		if err != nil {
			return nil, err
		}
		r.label, r.group, r.seedIndex = fmt.Sprintf("%s seed %d", label, run.Seed), label, i
		out = append(out, r)
	}
	return out, nil
}

// readCurves reads the curves of one metrics.jsonl: "train" lines (loss,
// lr per step), "epoch" lines (dev_f1, dev_loss) and "eval" lines
// (eval_loss). A step logged twice (a resumed run) keeps its last value.
func readCurves(path string) (*curveRun, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("plot: %w", err)
	}
	defer f.Close()
	vals := map[string]map[float64]float64{}
	set := func(name string, x float64, v *float64) {
		if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
			return
		}
		if vals[name] == nil {
			vals[name] = map[float64]float64{}
		}
		vals[name][x] = *v
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var l struct {
			Kind     string   `json:"kind"`
			Step     float64  `json:"step"`
			Epoch    float64  `json:"epoch"`
			Loss     *float64 `json:"loss"`
			LR       *float64 `json:"lr"`
			DevF1    *float64 `json:"dev_f1"`
			DevLoss  *float64 `json:"dev_loss"`
			EvalLoss *float64 `json:"eval_loss"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("plot: %s:%d: %w", path, n, err)
		}
		switch l.Kind {
		case "train":
			set("loss", l.Step, l.Loss)
			set("lr", l.Step, l.LR)
		case "epoch":
			set("dev_f1", l.Epoch, l.DevF1)
			set("val_loss", l.Step, l.DevLoss)
		case "eval":
			set("val_loss", l.Step, l.EvalLoss)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("plot: %s: %w", path, err)
	}
	xy := func(name string) plotter.XYs {
		m := vals[name]
		pts := make(plotter.XYs, 0, len(m))
		for x, y := range m {
			pts = append(pts, plotter.XY{X: x, Y: y})
		}
		sortXY(pts)
		return pts
	}
	return &curveRun{loss: xy("loss"), lr: xy("lr"), valLoss: xy("val_loss"), devF1: xy("dev_f1")}, nil
}

func sortXY(pts plotter.XYs) {
	for i := 1; i < len(pts); i++ {
		for j := i; j > 0 && pts[j].X < pts[j-1].X; j-- {
			pts[j], pts[j-1] = pts[j-1], pts[j]
		}
	}
}

// dashes are the dash patterns of a sweep's seeds, in seed order.
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(3), vg.Points(2), vg.Points(3)}}

// curveChart draws one curve per run that has points: colour by the run's
// group (RUN argument), dashes by its seed; ok is false when no run has
// any.
func curveChart(runs []*curveRun, title, xl, yl string, pick func(*curveRun) plotter.XYs, legendBottom bool) (p *plot.Plot, ok bool, err error) {
	defer func() {
		if r := recover(); r != nil { // gonum/plot panics on some degenerate inputs
			err = fmt.Errorf("plot: %s: %v", title, r)
		}
	}()
	p = plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xl, yl
	p.Add(plotter.NewGrid())
	p.Legend.Top = !legendBottom
	p.Legend.Left = false
	groups := map[string]int{}
	lo, hi, entries := math.Inf(1), math.Inf(-1), 0
	for _, r := range runs {
		if _, seen := groups[r.group]; !seen {
			groups[r.group] = len(groups)
		}
		pts := pick(r)
		if len(pts) == 0 {
			continue
		}
		ok = true
		entries++
		for _, pt := range pts {
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
		}
		style := draw.LineStyle{Color: palette.Color(groups[r.group]), Width: vg.Points(1.5), Dashes: dashes[r.seedIndex%len(dashes)]}
		if len(pts) <= 30 { // epochs: mark the points
			lp, sp, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, false, fmt.Errorf("plot: %s: %w", title, err)
			}
			lp.LineStyle = style
			sp.Color, sp.Shape, sp.Radius = style.Color, draw.CircleGlyph{}, vg.Points(2.5)
			p.Add(lp, sp)
			p.Legend.Add(r.label, lp, sp)
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, false, fmt.Errorf("plot: %s: %w", title, err)
		}
		l.LineStyle = style
		p.Add(l)
		p.Legend.Add(r.label, l)
	}
	// Room for the legend above (or below) the curves: about one legend
	// line's share of the height per entry.
	if ok {
		span := math.Max(hi-lo, math.Abs(hi)*0.1+1e-12)
		room := span * 0.075 * float64(entries) / math.Max(0.2, 1-0.075*float64(entries))
		if legendBottom {
			p.Y.Min, p.Y.Max = lo-room, hi+span*0.05
		} else {
			p.Y.Min, p.Y.Max = lo-span*0.05, hi+room
			if lo >= 0 && p.Y.Min < 0 {
				p.Y.Min = 0
			}
		}
	}
	return p, ok, nil
}
