package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// oomError wraps an allocation failure with the run's shape and
// torchutil.OOMHint (torchutil.WrapOOM: unchanged when err is no
// allocation failure or already wraps torchutil.ErrOutOfMemory).
func oomError(o Options, err error) error {
	return torchutil.WrapOOM(err, fmt.Sprintf("bench: %s batch %d × %d on %s", o.Task, o.Batch, o.Seq, torchutil.DeviceString(o.Device)))
}

// OOMHintWriter returns a writer that copies to w and, after any write
// holding an out-of-memory message, writes
// "<prefix>: out of memory: <torchutil.OOMHint>" on a line of its own. Use
// it as the output of the standard logger while a run is in progress: stock
// gotch's Must* functions write to it just before os.Exit, so that an
// allocation failure inside the forward pass ends with the hint instead of
// a bare libtorch message. (In the patched gotch they panic instead, and
// Run returns the error.)
func OOMHintWriter(w io.Writer, prefix string) io.Writer {
	return &oomWriter{w: w, prefix: prefix}
}

type oomWriter struct {
	w      io.Writer
	prefix string
}

func (o *oomWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err == nil && torchutil.IsOOMMessage(string(p)) {
		_, err = fmt.Fprintf(o.w, "%s: out of memory: %s\n", o.prefix, torchutil.OOMHint)
	}
	return n, err
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
