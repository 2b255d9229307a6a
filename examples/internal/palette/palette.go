// Package palette holds the colours of the module's charts, and Save,
// which writes a chart atomically. The colours are the Okabe–Ito
// palette (Okabe and Ito, "Color Universal Design", 2002; Wong, "Points
// of view: Color blindness", Nature Methods 8:441, 2011), whose eight
// colours stay distinct for readers with protanopia, deuteranopia and
// tritanopia, unlike red against green.
package palette

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// OkabeIto is the palette in the order charts use it: orange, sky blue,
// bluish green, vermillion, blue, reddish purple, yellow, black (yellow,
// faint on white, comes late).
var OkabeIto = []color.RGBA{
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0xF0, 0xE4, 0x42, 0xFF}, // yellow
	{0x00, 0x00, 0x00, 0xFF}, // black
}

// Color returns the i-th colour of OkabeIto, cycling past the eighth.
func Color(i int) color.Color {
	if i < 0 {
		i = -i
	}
	return OkabeIto[i%len(OkabeIto)]
}

// Save renders p at width × height and writes it to path atomically, in
// the format path's extension names (png, svg, pdf): plot.Save would
// create path first, so a full disk would leave half a picture.
func Save(p *plot.Plot, width, height vg.Length, path string) error {
	wt, err := p.WriterTo(width, height, strings.TrimPrefix(filepath.Ext(path), "."))
	if err != nil {
		return fmt.Errorf("chart %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("chart %s: %w", path, err)
	}
	return nil
}
