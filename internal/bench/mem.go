package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrOutOfMemory is wrapped by Run's error when an allocation failed.
var ErrOutOfMemory = errors.New("out of memory")

// OOMHint is the advice printed with every out-of-memory error.
const OOMHint = "reduce -batch and use gradient accumulation"

// oomMarkers are substrings of libtorch's allocator failures: CUDA's
// caching allocator ("CUDA out of memory. Tried to allocate ..."), cuBLAS
// (CUBLAS_STATUS_ALLOC_FAILED) and the CPU allocator ("DefaultCPUAllocator:
// can't allocate memory", "not enough memory").
var oomMarkers = []string{"out of memory", "CUBLAS_STATUS_ALLOC_FAILED", "can't allocate memory", "not enough memory"}

// IsOOM reports whether err (or a libtorch message) says an allocation
// failed.
func IsOOM(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrOutOfMemory) {
		return true
	}
	return isOOMText(err.Error())
}

func isOOMText(s string) bool {
	for _, m := range oomMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// oomError wraps an allocation failure with the run's shape and OOMHint.
func oomError(o Options, err error) error {
	return fmt.Errorf("bench: %s batch %d × %d on %s: %w (%s): %v", o.Task, o.Batch, o.Seq, deviceString(o.Device), ErrOutOfMemory, OOMHint, err)
}

// OOMHintWriter returns a writer that copies to w and, after any write
// holding an out-of-memory message, writes "<prefix>: out of memory: <OOMHint>"
// on a line of its own. Use it as the output of the standard logger (which
// gotch's Must* functions write to just before os.Exit) while a run is in
// progress, so that an allocation failure inside the forward pass ends with
// the hint instead of a bare libtorch message.
func OOMHintWriter(w io.Writer, prefix string) io.Writer {
	return &oomWriter{w: w, prefix: prefix}
}

type oomWriter struct {
	w      io.Writer
	prefix string
}

func (o *oomWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err == nil && isOOMText(string(p)) {
		_, err = fmt.Fprintf(o.w, "%s: out of memory: %s\n", o.prefix, OOMHint)
	}
	return n, err
}

// procStatusKiB returns a "Vm...:   123 kB" field of /proc/self/status in KiB.
func procStatusKiB(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			v, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: /proc/self/status %s: %w", field, err)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("bench: /proc/self/status has no %s", field)
}

// RSS returns the process's resident set size in bytes (VmRSS).
func RSS() (int64, error) {
	k, err := procStatusKiB("VmRSS")
	return k << 10, err
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM),
// since it started or since the last successful ResetPeakRSS.
func PeakRSS() (int64, error) {
	k, err := procStatusKiB("VmHWM")
	return k << 10, err
}

// ResetPeakRSS resets VmHWM to the current resident set (writing 5 to
// /proc/self/clear_refs, Linux ≥ 4.0).
func ResetPeakRSS() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("bench: reset peak RSS: %w", err)
	}
	return nil
}

// nvidiaSMI runs nvidia-smi with args and returns its output lines; ok is
// false when it is missing or fails.
func nvidiaSMI(args ...string) (lines []string, ok bool) {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).Output()
	if err != nil {
		return nil, false
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, len(lines) > 0
}

// gpuName returns the name of CUDA device idx ("NVIDIA H100 80GB HBM3", as
// torch.cuda.get_device_name) from nvidia-smi, or "cuda:idx".
func gpuName(idx int) string {
	if l, ok := nvidiaSMI("--query-gpu=name", "--format=csv,noheader", "-i", strconv.Itoa(idx)); ok {
		return l[0]
	}
	return "cuda:" + strconv.Itoa(idx)
}

// gpuProcessMemGiB returns this process's GPU memory (MiB in nvidia-smi's
// compute-apps table) in GiB; ok is false when nvidia-smi cannot see the
// process (missing, or another PID namespace).
func gpuProcessMemGiB() (gib float64, ok bool) {
	lines, ok := nvidiaSMI("--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits")
	if !ok {
		return 0, false
	}
	pid := strconv.Itoa(os.Getpid())
	total, found := 0.0, false
	for _, l := range lines {
		f := strings.Split(l, ",")
		if len(f) != 2 || strings.TrimSpace(f[0]) != pid {
			continue
		}
		mib, err := strconv.ParseFloat(strings.TrimSpace(f[1]), 64)
		if err != nil {
			continue
		}
		total += mib
		found = true
	}
	return total / 1024, found
}

// cpuName returns "cpu: <model name> (<n> logical CPUs)" from /proc/cpuinfo.
func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "cpu"
	}
	name, n := "", 0
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			name = strings.TrimSpace(v)
		case "processor":
			n++
		}
	}
	if name == "" {
		return "cpu"
	}
	return fmt.Sprintf("cpu: %s (%d logical CPUs)", name, n)
}
