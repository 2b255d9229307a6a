package torchutil

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
)

// gib is one GiB in bytes.
const gib = 1 << 30

// MemoryPeak is a device's peak memory use in bytes since the last
// ResetPeakMemory (or since the process started).
type MemoryPeak struct {
	// Allocated is torch.cuda.max_memory_allocated() on CUDA; on the CPU
	// the process's peak resident set (VmHWM).
	Allocated int64
	// Reserved is torch.cuda.max_memory_reserved() on CUDA (what the
	// caching allocator holds, at least Allocated); on the CPU the same
	// as Allocated.
	Reserved int64
}

// PeakMemory returns dev's peak memory: the CUDA caching allocator's peak
// allocated and reserved bytes (through bbshim; an error when the shim was
// built without the allocator statistics), or on the CPU the process's
// peak resident set, which counts everything the process holds (the Go
// heap, libtorch's code, host copies of data), not only tensors.
func PeakMemory(dev gotch.Device) (MemoryPeak, error) {
	if dev.IsCuda() {
		st, err := bbshim.CUDAMemory(dev.Value)
		if err != nil {
			return MemoryPeak{}, fmt.Errorf("torchutil: peak memory of %s: %w", DeviceString(dev), err)
		}
		return MemoryPeak{Allocated: st.AllocatedPeak, Reserved: st.ReservedPeak}, nil
	}
	p, err := PeakRSS()
	if err != nil {
		return MemoryPeak{}, err
	}
	return MemoryPeak{Allocated: p, Reserved: p}, nil
}

// ResetPeakMemory starts dev's peaks afresh at the current use
// (torch.cuda.reset_peak_memory_stats; ResetPeakRSS on the CPU).
func ResetPeakMemory(dev gotch.Device) error {
	if dev.IsCuda() {
		if err := bbshim.ResetCUDAPeak(dev.Value); err != nil {
			return fmt.Errorf("torchutil: reset peak memory of %s: %w", DeviceString(dev), err)
		}
		return nil
	}
	return ResetPeakRSS()
}

// MemoryLimit is a cap on one device's memory (the commands' -max-memory
// GiB). Make it with LimitMemory, call Check after every training step
// (cheap: no device synchronisation, no allocation) and Close when the
// run ends. A nil *MemoryLimit, and one made with gib <= 0, has no cap:
// its methods do nothing.
//
// On CUDA the caching allocator itself enforces the cap
// (setMemoryFraction, as torch.cuda.set_per_process_memory_fraction): an
// allocation that would take its reserved memory above the cap fails with
// libtorch's "CUDA out of memory" error, which WrapOOM turns into an
// error carrying OOMHint. Check compares the allocator's peak reserved
// memory with the cap. On the CPU nothing can stop an allocation; Check
// compares the process's peak resident set (VmHWM) with the cap after the
// fact.
//
// Only one MemoryLimit per device should be open at a time: the
// allocator's fraction is per device and process-wide, and Close lifts it.
type MemoryLimit struct {
	dev        gotch.Device
	gib        float64 // the cap as given; 0 = none
	limit      int64   // bytes; 0 = none
	total      int64   // CUDA: the device's total memory in bytes
	sinceStart bool    // CPU: VmHWM could not be reset, the peak is the process's
	closed     bool
}

// LimitMemory caps dev's memory at gib GiB (2³⁰ bytes) and resets dev's
// peak (ResetPeakMemory), so that Check sees only what follows. gib <= 0
// means no cap. On CUDA it needs the bbshim allocator functions
// (bbshim.HasMemoryFraction) and fails when gib is more than the device's
// total memory; the fraction set is gib·2³⁰ / total. On the CPU, when the
// peak cannot be reset (no writable /proc/self/clear_refs), Check uses the
// peak since the process started.
func LimitMemory(dev gotch.Device, gib float64) (*MemoryLimit, error) {
	l := &MemoryLimit{dev: dev}
	if math.IsNaN(gib) || math.IsInf(gib, 0) {
		return nil, fmt.Errorf("torchutil: memory cap %v GiB: want a finite number", gib)
	}
	if gib <= 0 {
		return l, nil
	}
	limit := int64(gib * (1 << 30))
	if limit < 1 {
		limit = 1
	}
	if !dev.IsCuda() {
		l.sinceStart = ResetPeakRSS() != nil
		l.gib, l.limit = gib, limit
		return l, nil
	}
	name := DeviceString(dev)
	if !bbshim.HasMemoryFraction() {
		return nil, fmt.Errorf("torchutil: memory cap on %s: the bbshim package was built without the CUDA allocator functions (no CUDA runtime headers found at setup; set $CUDA_HOME and run go run ./examples/setup)", name)
	}
	total, err := bbshim.CUDATotalMemory(dev.Value)
	if err != nil {
		return nil, fmt.Errorf("torchutil: memory cap on %s: %w", name, err)
	}
	if limit > total {
		return nil, fmt.Errorf("torchutil: memory cap %g GiB is more than %s's %.2f GiB", gib, name, float64(total)/(1<<30))
	}
	if err := bbshim.ResetCUDAPeak(dev.Value); err != nil {
		return nil, fmt.Errorf("torchutil: memory cap on %s: %w", name, err)
	}
	if err := bbshim.SetCUDAMemoryFraction(dev.Value, float64(limit)/float64(total)); err != nil {
		return nil, fmt.Errorf("torchutil: memory cap on %s: %w", name, err)
	}
	l.gib, l.limit, l.total = gib, limit, total
	return l, nil
}

// GiB returns the cap in GiB as given to LimitMemory (0: no cap).
func (l *MemoryLimit) GiB() float64 {
	if l == nil {
		return 0
	}
	return l.gib
}

// Check returns nil while dev's peak memory since LimitMemory is within the
// cap, else an error that wraps ErrOutOfMemory:
//
//	torchutil: peak host memory 1.234 GiB is over the memory cap 1 GiB: out of memory: <OOMHint>
//
// ("peak reserved GPU memory ... on cuda:N" on CUDA). An error reading the
// peak is returned as it is (it does not wrap ErrOutOfMemory). Check does
// nothing without a cap or after Close.
func (l *MemoryLimit) Check() error {
	if l == nil || l.limit == 0 || l.closed {
		return nil
	}
	p, err := PeakMemory(l.dev)
	if err != nil {
		return err
	}
	if p.Reserved <= l.limit {
		return nil
	}
	what := "peak host memory"
	if l.dev.IsCuda() {
		what = "peak reserved GPU memory on " + DeviceString(l.dev)
	} else if l.sinceStart {
		what = "peak host memory since the process started"
	}
	return fmt.Errorf("torchutil: %s %.3f GiB (%d bytes) is over the memory cap %g GiB (%d bytes): %w: %s",
		what, float64(p.Reserved)/gib, p.Reserved, l.gib, l.limit, ErrOutOfMemory, OOMHint)
}

// Close lifts the cap: on CUDA it sets the allocator's fraction back to 1
// (the whole device). Later calls, and calls without a cap, do nothing.
func (l *MemoryLimit) Close() error {
	if l == nil || l.limit == 0 || l.closed {
		return nil
	}
	l.closed = true
	if l.dev.IsCuda() {
		if err := bbshim.SetCUDAMemoryFraction(l.dev.Value, 1); err != nil {
			return fmt.Errorf("torchutil: lift the memory cap on %s: %w", DeviceString(l.dev), err)
		}
	}
	return nil
}

// procStatusKiB returns a "Vm...:   123 kB" field of /proc/self/status in KiB.
func procStatusKiB(field string) (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("torchutil: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			v, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("torchutil: /proc/self/status %s: %w", field, err)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("torchutil: /proc/self/status has no %s", field)
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
// /proc/self/clear_refs, Linux ≥ 4.0). The peak is the process's: a reset
// affects every reader in the process.
func ResetPeakRSS() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("torchutil: reset peak RSS: %w", err)
	}
	return nil
}
