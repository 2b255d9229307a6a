//go:build linux

package dist

import "syscall"

// launchAttr puts each rank in a process group of its own, so that a
// terminal's Ctrl-C reaches only the launcher, which forwards it once, and
// asks the kernel to kill the rank if the launcher dies.
func launchAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
