//go:build unix && !linux

package dist

import "syscall"

// launchAttr puts each rank in a process group of its own, so that a
// terminal's Ctrl-C reaches only the launcher, which forwards it once.
func launchAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
