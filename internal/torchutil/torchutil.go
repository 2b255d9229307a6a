package torchutil

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/sugarme/gotch"
)

// ParseDevice parses "cpu", "cuda" (device 0) or "cuda:N" (case-insensitive)
// and checks that a CUDA device is available and N is below the device count.
func ParseDevice(s string) (gotch.Device, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	switch {
	case name == "cpu":
		return gotch.CPU, nil
	case name == "cuda" || strings.HasPrefix(name, "cuda:"):
		idx, ok := cudaIndex(name)
		if !ok {
			return gotch.Device{}, fmt.Errorf("torchutil: device %q: bad CUDA index", s)
		}
		if !gotch.CUDA.IsAvailable() {
			return gotch.Device{}, fmt.Errorf("torchutil: device %q: CUDA is not available in this libtorch build", s)
		}
		if n := gotch.CUDA.DeviceCount(); int64(idx) >= n {
			return gotch.Device{}, fmt.Errorf("torchutil: device %q: only %d CUDA device(s)", s, n)
		}
		return gotch.CudaBuilder(uint(idx)), nil
	}
	return gotch.Device{}, fmt.Errorf("torchutil: device %q: want cpu, cuda or cuda:N", s)
}

// cudaIndex returns N of a lower-cased "cuda" (0) or "cuda:N" (N decimal
// digits); ok is false for any other name.
func cudaIndex(name string) (idx int, ok bool) {
	if name == "cuda" {
		return 0, true
	}
	rest, ok := strings.CutPrefix(name, "cuda:")
	if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

// ValidDevice reports whether s is a device name ParseDevice reads ("cpu",
// "cuda", "cuda:N", any case) or "" (the default, cpu), without asking
// whether the device exists: options are validated on machines without it.
func ValidDevice(s string) bool {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "" || name == "cpu" {
		return true
	}
	_, ok := cudaIndex(name)
	return ok
}

// DeviceName is s as run manifests record it: trimmed, lower-cased, "" as
// "cpu".
func DeviceName(s string) string {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "" {
		return "cpu"
	}
	return name
}

// DeviceString formats a device the way ParseDevice reads it.
func DeviceString(d gotch.Device) string {
	if d.IsCuda() {
		return "cuda:" + strconv.Itoa(d.Value)
	}
	return "cpu"
}

// SameDevice reports whether a and b name the same device. gotch reports a
// tensor's CPU device with Value 1 while gotch.CPU has Value -1, so plain ==
// is wrong.
func SameDevice(a, b gotch.Device) bool {
	if !a.IsCuda() || !b.IsCuda() {
		return a.IsCuda() == b.IsCuda()
	}
	return a.Value == b.Value
}

// LockThread pins the calling goroutine to its OS thread and returns the
// function that unpins it: `defer torchutil.LockThread()()`. Calls nest.
func LockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// Recover turns a panic into an error stored in *err (when *err is nil),
// prefixed "torch: " and wrapping the panic value when it is an error. Use
// it as `defer torchutil.Recover(&err)` in functions that call gotch code
// which may panic. In the gotch copy internal/setup prepares
// (ts.MustPanics), gotch's Must* functions panic with libtorch's error
// instead of calling log.Fatal, so Recover also catches their failures: a
// CUDA out-of-memory inside a forward pass comes back as an error that
// IsOOM recognises and WrapOOM explains. Stock gotch still ends the process
// through log.Fatal, so paths user input reaches keep calling the
// error-returning variants. Recover sees only panics of its own goroutine.
func Recover(err *error) {
	if r := recover(); r != nil {
		e, ok := r.(error)
		if !ok {
			e = fmt.Errorf("%v", r)
		}
		if *err == nil {
			*err = fmt.Errorf("torch: %w", e)
		}
	}
}

// SetGrad runs fn with libtorch grad mode set to enabled on a locked OS
// thread and restores the previous mode afterwards, also when fn panics.
func SetGrad(enabled bool, fn func() error) (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev := setGradEnabled(enabled)
	defer setGradEnabled(prev)
	defer Recover(&err)
	return fn()
}

// SetGradEnabled sets libtorch's grad mode of the calling thread (lock the
// goroutine to it) and returns the previous mode, for
// defer SetGradEnabled(SetGradEnabled(false)). Unlike gotch's
// ts.MustGradSetEnabled it returns the real previous mode.
func SetGradEnabled(on bool) (prev bool) { return setGradEnabled(on) }

// NoGrad runs fn with grad mode off (see SetGrad).
func NoGrad(fn func() error) error { return SetGrad(false, fn) }

// GradEnabled reports whether grad mode is on for the calling thread (call
// it with the goroutine locked to its thread).
func GradEnabled() bool {
	prev := setGradEnabled(true)
	setGradEnabled(prev)
	return prev
}
