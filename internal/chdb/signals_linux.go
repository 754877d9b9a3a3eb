package chdb

import (
	"syscall"
	"unsafe"
)

// kernelSigaction is struct sigaction as the rt_sigaction system call takes
// it on Linux (the same layout on amd64 and arm64).
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const maxSignal = 64

// preserveSignals records the signal dispositions of the process and
// returns a function that puts back every one that the Go runtime had
// installed and chDB has since changed.
//
// chDB resets the handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, ...
// to SIG_DFL when told not to use its own (chdb_set_signal_handlers_enabled),
// and would install its own otherwise; either way the Go runtime loses the
// handlers it relies on (a nil dereference would kill the process instead of
// panicking). Handlers chDB adds for signals Go leaves alone (SIGRTMIN for
// its profilers) are kept.
func preserveSignals() (restore func()) {
	var saved [maxSignal + 1]kernelSigaction
	var ok [maxSignal + 1]bool
	for sig := 1; sig <= maxSignal; sig++ {
		ok[sig] = sigaction(sig, nil, &saved[sig]) == nil
	}
	return func() {
		for sig := 1; sig <= maxSignal; sig++ {
			if !ok[sig] || saved[sig].handler == 0 /* SIG_DFL: not Go's */ {
				continue
			}
			var now kernelSigaction
			if sigaction(sig, nil, &now) == nil && now != saved[sig] {
				_ = sigaction(sig, &saved[sig], nil)
			}
		}
	}
}

func sigaction(sig int, act, old *kernelSigaction) error {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
