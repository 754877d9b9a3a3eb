package config

import (
	"fmt"
	"net"
	"strconv"
)

// CheckListen validates a host:port listen address; field names the
// setting in the error.
func CheckListen(field, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s: %q is not host:port: %w", field, addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%s: port %q is not 0-65535", field, port)
	}
	return nil
}

// Check returns an error naming field when ok is false.
func Check(ok bool, field, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}
