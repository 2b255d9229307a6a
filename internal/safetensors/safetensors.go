package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// DType is a safetensors element type as written in the header.
type DType string

// The element types this package knows.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	Bool DType = "BOOL"
)

// Size returns the number of bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, Bool:
		return 1
	}
	return 0
}

// Tensor is one named entry of a safetensors file: a dtype, a shape and the
// row-major little-endian bytes. A scalar has an empty shape and one element.
type Tensor struct {
	DType DType
	Shape []int64
	Data  []byte
}

// Numel returns the number of elements implied by Shape (1 for a scalar), or
// -1 when a dimension is negative or the product overflows.
func (t Tensor) Numel() int64 {
	return numel(t.Shape)
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		if d != 0 && n > math.MaxInt64/d {
			return -1
		}
		n *= d
	}
	return n
}

// Validate checks that the dtype is known and that len(Data) equals
// Numel × DType.Size().
func (t Tensor) Validate() error {
	sz := t.DType.Size()
	if sz == 0 {
		return fmt.Errorf("unknown dtype %q", t.DType)
	}
	n := t.Numel()
	if n < 0 {
		return fmt.Errorf("invalid shape %v", t.Shape)
	}
	if n > math.MaxInt64/int64(sz) || int64(len(t.Data)) != n*int64(sz) {
		return fmt.Errorf("dtype %s shape %v needs %d×%d bytes, have %d", t.DType, t.Shape, n, sz, len(t.Data))
	}
	return nil
}

// maxHeader bounds the JSON header (the reference implementation uses 100 MB).
const maxHeader = 100 << 20

type entry struct {
	DType   DType    `json:"dtype"`
	Shape   []int64  `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// ReadFile reads a safetensors file. The returned tensors' Data slices share
// one buffer holding the file. Errors name the file and, where there is one,
// the key.
func ReadFile(path string) (map[string]Tensor, map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	tensors, meta, err := Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return tensors, meta, nil
}

// Parse decodes a safetensors file held in memory (see ReadFile). The
// returned Data slices alias raw.
func Parse(raw []byte) (map[string]Tensor, map[string]string, error) {
	if len(raw) < 8 {
		return nil, nil, fmt.Errorf("truncated header: file has %d bytes, need at least 8", len(raw))
	}
	n := binary.LittleEndian.Uint64(raw[:8])
	if n > maxHeader {
		return nil, nil, fmt.Errorf("header length %d exceeds the limit of %d bytes", n, maxHeader)
	}
	if uint64(len(raw)-8) < n {
		return nil, nil, fmt.Errorf("truncated header: header length %d but only %d bytes follow", n, len(raw)-8)
	}
	hdr := raw[8 : 8+n]
	buf := raw[8+n:]
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &fields); err != nil {
		return nil, nil, fmt.Errorf("header is not a JSON object: %w", err)
	}
	var meta map[string]string
	type span struct {
		key        string
		begin, end int64
	}
	spans := make([]span, 0, len(fields))
	tensors := make(map[string]Tensor, len(fields))
	for key, v := range fields {
		if key == "__metadata__" {
			if err := json.Unmarshal(v, &meta); err != nil {
				return nil, nil, fmt.Errorf("__metadata__ must map strings to strings: %w", err)
			}
			continue
		}
		var e entry
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("%q: bad header entry: %w", key, err)
		}
		if e.DType.Size() == 0 {
			return nil, nil, fmt.Errorf("%q: unknown dtype %q", key, e.DType)
		}
		if e.Shape == nil {
			e.Shape = []int64{}
		}
		b, en := e.Offsets[0], e.Offsets[1]
		if b < 0 || en < b || en > int64(len(buf)) {
			return nil, nil, fmt.Errorf("%q: data_offsets [%d, %d] outside the %d-byte buffer", key, b, en, len(buf))
		}
		t := Tensor{DType: e.DType, Shape: e.Shape, Data: buf[b:en:en]}
		if err := t.Validate(); err != nil {
			return nil, nil, fmt.Errorf("%q: %w", key, err)
		}
		tensors[key] = t
		spans = append(spans, span{key, b, en})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].end < spans[j].end
	})
	var pos int64
	for _, s := range spans {
		if s.begin != pos {
			return nil, nil, fmt.Errorf("%q: data_offsets start at %d, want %d (tensors must be contiguous)", s.key, s.begin, pos)
		}
		pos = s.end
	}
	if pos != int64(len(buf)) {
		return nil, nil, fmt.Errorf("buffer has %d bytes but the tensors cover %d", len(buf), pos)
	}
	return tensors, meta, nil
}

// Marshal encodes tensors and metadata as a safetensors file (see WriteFile).
func Marshal(tensors map[string]Tensor, metadata map[string]string) ([]byte, error) {
	keys := make([]string, 0, len(tensors))
	for k := range tensors {
		if k == "__metadata__" {
			return nil, fmt.Errorf("tensor name %q is reserved", k)
		}
		if err := tensors[k].Validate(); err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var h bytes.Buffer
	h.WriteByte('{')
	first := true
	if len(metadata) > 0 {
		mk := make([]string, 0, len(metadata))
		for k := range metadata {
			mk = append(mk, k)
		}
		sort.Strings(mk)
		h.WriteString(`"__metadata__":{`)
		for i, k := range mk {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSONString(&h, k)
			h.WriteByte(':')
			writeJSONString(&h, metadata[k])
		}
		h.WriteByte('}')
		first = false
	}
	var off int64
	for _, k := range keys {
		t := tensors[k]
		if !first {
			h.WriteByte(',')
		}
		first = false
		writeJSONString(&h, k)
		h.WriteString(`:{"dtype":`)
		writeJSONString(&h, string(t.DType))
		h.WriteString(`,"shape":[`)
		for i, d := range t.Shape {
			if i > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.FormatInt(d, 10))
		}
		end := off + int64(len(t.Data))
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	out := make([]byte, 8, 8+int64(h.Len())+off)
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	out = append(out, h.Bytes()...)
	for _, k := range keys {
		out = append(out, tensors[k].Data...)
	}
	return out, nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}

// WriteFile writes tensors (sorted by name) and metadata to path atomically:
// it writes a temporary file in the same directory, syncs it and renames it
// over path.
func WriteFile(path string, tensors map[string]Tensor, metadata map[string]string) error {
	data, err := Marshal(tensors, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	if err := WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data to path through a synced temporary file in the
// same directory and a rename.
func WriteFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: persist the rename
		d.Close()
	}
	return nil
}
