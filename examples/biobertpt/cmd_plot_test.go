package main

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/biobertpt-go/biobertpt/examples/internal/palette"
)

// writeMetrics writes a NER-like metrics.jsonl: a train line every 5
// steps over epochs of 20 steps, an epoch line per epoch (with dev_loss
// when devLoss).
func writeMetrics(t *testing.T, dir string, epochs int, devLoss bool) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	var b strings.Builder
	for e := 1; e <= epochs; e++ {
		for s := (e-1)*20 + 5; s <= e*20; s += 5 {
			fmt.Fprintf(&b, `{"time":"t","step":%d,"kind":"train","epoch":%g,"loss":%g,"lr":%g}`+"\n", s, float64(s)/20, 3/float64(s), 1e-3*(1-float64(s)/float64(20*epochs)))
		}
		dl := ""
		if devLoss {
			dl = fmt.Sprintf(`,"dev_loss":%g`, 2/float64(e))
		}
		fmt.Fprintf(&b, `{"time":"t","step":%d,"kind":"epoch","epoch":%d,"train_loss":1,"dev_f1":%g%s}`+"\n", e*20, e, 0.5+0.1*float64(e), dl)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(b.String()), 0o644))
}

// TestPlot: plot draws the four charts of a run and a sweep overlaid, as
// PNG and SVG, in the Okabe–Ito palette (the first RUN in orange, the
// second in sky blue); a chart without data is skipped with a note.
func TestPlot(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "single")
	writeMetrics(t, run, 4, true)
	sweep := filepath.Join(root, "sweep")
	writeMetrics(t, filepath.Join(sweep, "seed-1"), 3, true)
	writeMetrics(t, filepath.Join(sweep, "seed-2"), 3, true)
	require.NoError(t, os.WriteFile(filepath.Join(sweep, "summary.json"), []byte(`{"runs":[{"seed":1,"dir":"seed-1"},{"seed":2,"dir":"seed-2"}]}`), 0o644))
	out := filepath.Join(root, "plots")
	code, stdout, stderr := runNERCmd("", "plot", "-out", out, run, sweep)
	require.Equal(t, 0, code, stderr)
	for _, name := range []string{"train_loss", "val_loss", "lr", "dev_f1"} {
		assert.Contains(t, stdout, filepath.Join(out, name+".png"))
		svg, err := os.ReadFile(filepath.Join(out, name+".svg"))
		require.NoError(t, err)
		assert.Contains(t, string(svg), "<svg")
		f, err := os.Open(filepath.Join(out, name+".png"))
		require.NoError(t, err)
		img, err := png.Decode(f)
		f.Close()
		require.NoError(t, err, name)
		counts := map[int]int{}
		bounds := img.Bounds()
		for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
			for x := bounds.Min.X; x < bounds.Max.X; x++ {
				r, g, b, _ := img.At(x, y).RGBA()
				for i := 0; i < 2; i++ {
					c := palette.OkabeIto[i]
					if r>>8 == uint32(c.R) && g>>8 == uint32(c.G) && b>>8 == uint32(c.B) {
						counts[i]++
					}
				}
			}
		}
		assert.Greater(t, counts[0], 50, "%s: orange pixels (the first run)", name)
		assert.Greater(t, counts[1], 50, "%s: sky-blue pixels (the sweep)", name)
	}
	svg, err := os.ReadFile(filepath.Join(out, "dev_f1.svg"))
	require.NoError(t, err)
	assert.Contains(t, string(svg), "sweep seed 2")

	noDev := filepath.Join(root, "nodev")
	writeMetrics(t, noDev, 2, false)
	code, _, stderr = runNERCmd("", "plot", "-out", filepath.Join(root, "p2"), "-format", "png", noDev)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "no val_loss in any run")
	assert.NoFileExists(t, filepath.Join(root, "p2", "lr.svg"))

	code, _, _ = runNERCmd("", "plot", "-format", "gif", run)
	assert.Equal(t, 2, code)
	code, _, stderr = runNERCmd("", "plot", filepath.Join(root, "missing"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "metrics.jsonl")
}
