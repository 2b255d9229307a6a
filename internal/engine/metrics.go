package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
	"github.com/biobertpt-go/biobertpt/internal/progress"
)

// openMetrics opens the metrics log at path for appending. When the run
// resumes (resume), the lines of steps after the resumed checkpoint's (0
// without one) are removed first: the interrupted run wrote them after its
// last checkpoint and the resumed run writes them again. A torn last line
// goes too. Then a "resume" line marks where the resumed run continues.
func openMetrics(path string, resume bool, ckpt *Checkpoint) (*progress.MetricsLog, error) {
	if resume {
		step := 0
		if ckpt != nil {
			step = ckpt.Step
		}
		if err := TrimMetrics(path, step); err != nil {
			return nil, err
		}
	}
	log, err := progress.OpenMetricsLog(path, progress.MetricsOptions{})
	if err != nil {
		return nil, err
	}
	if ckpt != nil {
		if err := log.Log(int64(ckpt.Step), "resume", map[string]float64{"resumed_from_step": float64(ckpt.Step)}); err != nil {
			log.Close()
			return nil, err
		}
	}
	return log, nil
}

// TrimMetrics rewrites the JSON-lines metrics log at path (atomically)
// without its lines of steps after maxStep and without lines that do not
// parse (a line torn by a crash). A missing file is not an error.
func TrimMetrics(path string, maxStep int) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("metrics log: %w", err)
	}
	var keep bytes.Buffer
	dropped := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 { // no newline: torn by a crash
			dropped++
			break
		}
		line := b[:i+1]
		b = b[i+1:]
		var rec struct {
			Step *int64 `json:"step"`
		}
		if err := json.Unmarshal(line, &rec); err != nil || rec.Step == nil || *rec.Step > int64(maxStep) {
			dropped++
			continue
		}
		keep.Write(line)
	}
	if dropped == 0 {
		return nil
	}
	if err := atomicfile.WriteBytes(path, keep.Bytes()); err != nil {
		return fmt.Errorf("metrics log: %w", err)
	}
	return nil
}
