//go:build !linux

package chdb

// preserveSignals is only implemented for Linux, the platform the pinned
// library exists for; elsewhere chDB's signal handling is left as it is.
func preserveSignals() (restore func()) { return func() {} }
