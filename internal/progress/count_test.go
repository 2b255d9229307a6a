package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCounterPlain(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	k := NewCounter(&buf, 400, "documents", Options{Mode: Plain, Interval: 10 * time.Second, Prefix: "predict", Now: c.now})
	for i := 0; i < 20; i++ {
		c.add(time.Second)
		k.Add(10, 1500)
	}
	require.NoError(t, k.Finish())
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	// First Add draws, then every 10 s (the 11th), then Finish.
	require.Len(t, lines, 3)
	assert.Equal(t, "predict 10/400 documents (2.5%) | 10/s | 1.5k tok/s | 0:00:01 < 0:00:39", lines[0])
	assert.Equal(t, "predict 200/400 documents (50.0%) | 10/s | 1.5k tok/s | 0:00:20 < 0:00:20", lines[2])
}

func TestCounterTerminalAndNoTotal(t *testing.T) {
	c := newClock()
	var buf bytes.Buffer
	k := NewCounter(&buf, 0, "files", Options{Mode: Terminal, Now: c.now})
	k.Add(1, 0)
	c.add(100 * time.Millisecond)
	k.Add(1, 0) // before Refresh: not drawn
	c.add(time.Second)
	k.Add(1, 0)
	require.NoError(t, k.Finish())
	assert.Equal(t, 3, strings.Count(buf.String(), "\r"))
	assert.True(t, strings.HasSuffix(buf.String(), "\r3 files | 3/s | 0:00:01\n"), "%q", buf.String())
	assert.NotContains(t, buf.String(), "tok/s")
}
