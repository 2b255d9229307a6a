package ner

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseScheme(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Scheme
	}{{"iob2", IOB2}, {"BIO", IOB2}, {"IOB1", IOB1}, {"io", IO}, {"IOE1", IOE1}, {"ioe2", IOE2}, {"BIOES", IOBES}, {"IOBES", IOBES}, {" bilou ", BILOU}} {
		s, err := ParseScheme(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, s, tc.in)
		back, err := ParseScheme(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, back)
	}
	_, err := ParseScheme("BMEWO")
	assert.ErrorContains(t, err, "unknown scheme")
	assert.Error(t, Scheme(42).Validate())
	assert.Equal(t, "Scheme(42)", Scheme(42).String())

	var s Scheme
	require.NoError(t, s.UnmarshalText([]byte("IOBES")))
	b, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "IOBES", string(b))
}

// One sequence written in every scheme: X X | X (adjacent same type) Y O Y
var inEvery = map[Scheme][]string{
	IOB2:  {"B-X", "I-X", "B-X", "B-Y", "O", "B-Y"},
	IOB1:  {"I-X", "I-X", "B-X", "I-Y", "O", "I-Y"},
	IOE2:  {"I-X", "E-X", "E-X", "E-Y", "O", "E-Y"},
	IOE1:  {"I-X", "E-X", "I-X", "I-Y", "O", "I-Y"},
	IOBES: {"B-X", "E-X", "S-X", "S-Y", "O", "S-Y"},
	BILOU: {"B-X", "L-X", "U-X", "U-Y", "O", "U-Y"},
}

func TestConvertTagsAllPairs(t *testing.T) {
	for from, src := range inEvery {
		spans, err := Spans(src, from)
		require.NoError(t, err)
		assert.Equal(t, []Span{{"X", 0, 2}, {"X", 2, 3}, {"Y", 3, 4}, {"Y", 5, 6}}, spans, from.String())
		for to, want := range inEvery {
			got, err := ConvertTags(src, from, to)
			require.NoError(t, err)
			assert.Equal(t, want, got, "%v -> %v", from, to)
		}
		io, err := ConvertTags(src, from, IO)
		require.NoError(t, err)
		// IO cannot separate the adjacent X entities.
		assert.Equal(t, []string{"I-X", "I-X", "I-X", "I-Y", "O", "I-Y"}, io)
	}
}

func TestConvertTagsErrors(t *testing.T) {
	_, err := ConvertTags([]string{"B-X", "S-X"}, IOB2, IOBES)
	assert.ErrorContains(t, err, "word 2")
	assert.ErrorContains(t, err, "prefix S-")
	_, err = ConvertTags([]string{"B-"}, IOB2, IOBES)
	assert.ErrorContains(t, err, "malformed")
	_, err = ConvertTags([]string{"PER"}, IOB2, IOBES)
	assert.ErrorContains(t, err, "malformed")
	_, err = ConvertTags([]string{"O"}, IOB2, Scheme(9))
	assert.Error(t, err)
	_, err = EncodeSpans([]Span{{"X", 0, 2}, {"Y", 1, 3}}, 3, IOB2)
	assert.ErrorContains(t, err, "overlap")
	_, err = EncodeSpans([]Span{{"X", 2, 4}}, 3, IOB2)
	assert.ErrorContains(t, err, "invalid")
	_, err = EncodeSpans([]Span{{"", 0, 1}}, 3, IOB2)
	assert.ErrorContains(t, err, "invalid")
}

func TestRepairTags(t *testing.T) {
	for _, tc := range []struct {
		name   string
		s      Scheme
		in     []string
		want   []string
		nWrong int
	}{
		{"valid unchanged", IOB2, []string{"B-X", "I-X", "O", "B-Y"}, []string{"B-X", "I-X", "O", "B-Y"}, 0},
		{"I after O starts", IOB2, []string{"O", "I-X", "I-X"}, []string{"O", "B-X", "I-X"}, 1},
		{"I at start", IOB2, []string{"I-X"}, []string{"B-X"}, 1},
		{"type change", IOB2, []string{"B-X", "I-Y"}, []string{"B-X", "B-Y"}, 1},
		{"malformed becomes O", IOB2, []string{"B-X", "foo", "Z-X"}, []string{"B-X", "O", "O"}, 2},
		{"IOBES unclosed", IOBES, []string{"B-X", "O"}, []string{"S-X", "O"}, 1},
		{"IOBES I alone", IOBES, []string{"O", "I-X", "I-X", "O"}, []string{"O", "B-X", "E-X", "O"}, 2},
		{"IOB1 B at start", IOB1, []string{"B-X", "I-X"}, []string{"I-X", "I-X"}, 1},
		{"empty", IOB2, []string{}, []string{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]string{}, tc.in...)
			got := RepairTags(tc.in, tc.s)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, in, tc.in, "input not modified")
			assert.Equal(t, tc.nWrong, countInvalid(tc.in, tc.s))
		})
	}
}

// Random valid sequences survive a round trip through every scheme.
func TestConvertRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		n := rng.IntN(12)
		var spans []Span
		for i := 0; i < n; {
			if rng.IntN(3) == 0 {
				i++
				continue
			}
			l := 1 + rng.IntN(3)
			if i+l > n {
				l = n - i
			}
			spans = append(spans, Span{[]string{"A", "B"}[rng.IntN(2)], i, i + l})
			i += l
		}
		iob2, err := EncodeSpans(spans, n, IOB2)
		require.NoError(t, err)
		for s := IOB2; s <= BILOU; s++ {
			if s == IO {
				continue
			}
			conv, err := ConvertTags(iob2, IOB2, s)
			require.NoError(t, err)
			assert.Equal(t, conv, RepairTags(conv, s), "valid %v sequence changed by repair", s)
			back, err := ConvertTags(conv, s, IOB2)
			require.NoError(t, err)
			require.Equal(t, iob2, back, "%v via %v", spans, s)
		}
	}
}

func ExampleConvertTags() {
	tags, _ := ConvertTags([]string{"B-C", "I-C", "O", "B-AS"}, IOB2, IOBES)
	fmt.Println(tags)
	// Output: [B-C E-C O S-AS]
}

func ExampleRepairTags() {
	fmt.Println(RepairTags([]string{"O", "I-C", "I-C", "B-AS", "I-T"}, IOB2))
	// Output: [O B-C I-C B-AS B-T]
}
