// Package palette holds the colours of the module's charts: the Okabe–Ito
// palette (Okabe and Ito, "Color Universal Design", 2002; Wong, "Points
// of view: Color blindness", Nature Methods 8:441, 2011), whose eight
// colours stay distinct for readers with protanopia, deuteranopia and
// tritanopia, unlike red against green.
package palette

import "image/color"

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
