package palette

import (
	"image/color"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestColor(t *testing.T) {
	assert.Equal(t, color.RGBA{0xE6, 0x9F, 0x00, 0xFF}, Color(0))
	assert.Equal(t, Color(0), Color(8), "cycles")
	seen := map[color.Color]bool{}
	for i := range OkabeIto {
		seen[Color(i)] = true
	}
	assert.Len(t, seen, 8)
}
