package correlator

import (
	"errors"
	"fmt"
	"math"
)

// Conversions from record fields to column values. A required value no
// column can hold (a socket's port, a flow's address) makes the record
// invalid: it goes to the dead-letter topic rather than being stored
// wrong. A flow's optional fields are read by optional instead.

// errInvalid marks a record that decodes but cannot be stored.
var errInvalid = errors.New("invalid")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

// ip16 returns the 16-byte (IPv4-mapped) form of a 0-, 4- or 16-byte
// address; empty is "::".
func ip16(b []byte, field string) ([16]byte, error) {
	var a [16]byte
	switch len(b) {
	case 0:
	case 4:
		a[10], a[11] = 0xff, 0xff
		copy(a[12:], b)
	case 16:
		copy(a[:], b)
	default:
		return a, invalidf("%s has %d bytes", field, len(b))
	}
	return a, nil
}

// maxTimeNs is 2200-01-01: later times are garbage (and beyond what
// DateTime64(3) is meant for here).
const maxTimeNs = 7258118400 * 1e9

// ms converts Unix nanoseconds to milliseconds.
func ms(ns uint64, field string) (int64, error) {
	if ns > maxTimeNs {
		return 0, invalidf("%s %d is beyond 2200", field, ns)
	}
	return int64(ns / 1e6), nil
}

func u16(v uint32, field string) (uint16, error) {
	if v > math.MaxUint16 {
		return 0, invalidf("%s %d exceeds 65535", field, v)
	}
	return uint16(v), nil
}

func u8(v uint32, field string) (uint8, error) {
	if v > math.MaxUint8 {
		return 0, invalidf("%s %d exceeds 255", field, v)
	}
	return uint8(v), nil
}

// enum8 keeps a protobuf enum number that the column's Enum8 knows, and
// maps one it does not (a newer producer) to 0, unspecified.
func enum8(v int32, max int32) int8 {
	if v < 0 || v > max {
		return 0
	}
	return int8(v)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
