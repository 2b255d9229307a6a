//go:build unix

package dist

import (
	"os"
	"syscall"
)

// signalRank sends sig to a rank's process group (the rank and anything
// it started), or to the rank alone when that fails.
func signalRank(p *os.Process, sig os.Signal) {
	if p == nil {
		return
	}
	if s, ok := sig.(syscall.Signal); ok {
		if err := syscall.Kill(-p.Pid, s); err == nil {
			return
		}
	}
	_ = p.Signal(sig)
}
