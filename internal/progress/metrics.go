package progress

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"time"
)

// MetricsOptions configures OpenMetricsLog.
type MetricsOptions struct {
	CSV bool             // write CSV instead of JSON lines
	Now func() time.Time // clock; nil = time.Now
}

// MetricsLog appends metric records to a file. Not safe for concurrent use.
type MetricsLog struct {
	f       *os.File
	path    string
	o       MetricsOptions
	columns []string // CSV: value columns after time, step, kind
}

// OpenMetricsLog opens path for appending (creating it). For CSV a header
// row is written when the file is empty; appending to an existing CSV file
// takes the columns from its header.
func OpenMetricsLog(path string, o MetricsOptions) (*MetricsLog, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("progress: metrics log: %w", err)
	}
	m := &MetricsLog{f: f, path: path, o: o}
	if o.CSV {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("progress: metrics log: %w", err)
		}
		if len(b) > 0 {
			line := b
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				line = b[:i]
			}
			hdr, err := csv.NewReader(bytes.NewReader(line)).Read()
			if err != nil || len(hdr) < 3 || hdr[0] != "time" || hdr[1] != "step" || hdr[2] != "kind" {
				f.Close()
				return nil, fmt.Errorf("progress: metrics log %s: not a metrics CSV (header %q)", path, line)
			}
			m.columns = hdr[3:]
		}
	}
	return m, nil
}

// Log appends one record: the time, the step, the kind ("train", "eval",
// …) and the values. A failed write (a full disk) leaves no partial line. NaN and ±Inf are written as null in JSON (empty in
// CSV). In CSV mode the first record fixes the columns; later records may
// omit columns but not add new ones.
func (m *MetricsLog) Log(step int64, kind string, values map[string]float64) error {
	if m.f == nil {
		return errors.New("progress: metrics log: closed")
	}
	now := m.o.Now().UTC().Format(time.RFC3339Nano)
	keys := make([]string, 0, len(values))
	for k := range values {
		if k == "time" || k == "step" || k == "kind" {
			return fmt.Errorf("progress: metrics log: value name %q is reserved", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	if m.o.CSV {
		w := csv.NewWriter(&buf)
		if m.columns == nil {
			m.columns = keys
			if err := w.Write(append([]string{"time", "step", "kind"}, keys...)); err != nil {
				return fmt.Errorf("progress: metrics log: %w", err)
			}
		}
		known := map[string]bool{}
		for _, c := range m.columns {
			known[c] = true
		}
		for _, k := range keys {
			if !known[k] {
				return fmt.Errorf("progress: metrics log %s: column %q not in the CSV header %v", m.path, k, m.columns)
			}
		}
		row := []string{now, strconv.FormatInt(step, 10), kind}
		for _, c := range m.columns {
			v, ok := values[c]
			if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
				row = append(row, "")
				continue
			}
			row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
		}
		if err := w.Write(row); err != nil {
			return fmt.Errorf("progress: metrics log: %w", err)
		}
		w.Flush()
	} else {
		buf.WriteString(`{"time":`)
		writeJSON(&buf, now)
		buf.WriteString(`,"step":`)
		buf.WriteString(strconv.FormatInt(step, 10))
		buf.WriteString(`,"kind":`)
		writeJSON(&buf, kind)
		for _, k := range keys {
			buf.WriteByte(',')
			writeJSON(&buf, k)
			buf.WriteByte(':')
			v := values[k]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				buf.WriteString("null")
			} else {
				buf.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		buf.WriteString("}\n")
	}
	st, err := m.f.Stat()
	if err != nil {
		return fmt.Errorf("progress: metrics log %s: %w", m.path, err)
	}
	if _, err := m.f.Write(buf.Bytes()); err != nil { // one write per line
		// A full disk can take part of the line: cut it off again, so that
		// the file holds whole records only.
		_ = m.f.Truncate(st.Size())
		return fmt.Errorf("progress: metrics log %s: %w", m.path, err)
	}
	return nil
}

// Close closes the file.
func (m *MetricsLog) Close() error {
	if m.f == nil {
		return nil
	}
	err := m.f.Close()
	m.f = nil
	if err != nil {
		return fmt.Errorf("progress: metrics log: %w", err)
	}
	return nil
}

func writeJSON(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}
