package ipdb

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// row is one line of a range database: the first and last address of the
// range and the fields after them (AS number and name, or a country code).
type row struct {
	start, end netip.Addr
	fields     []string
}

// parseRows reads "first,last,field..." lines (RFC 4180 quoting: AS names
// hold commas) and calls fn for each, with the line number of errors. A
// line of fewer than minFields fields after the range, an address that
// does not parse, a range of two families or one that ends before it
// starts is an error: a database that says that is not one to trust.
func parseRows(r io.Reader, minFields int, fn func(row) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err // a csv.ParseError names its line
		}
		line, _ := cr.FieldPos(0)
		rw, err := parseRow(rec, minFields)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(rw); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
	}
}

func parseRow(rec []string, minFields int) (row, error) {
	if len(rec) < 2+minFields {
		return row{}, fmt.Errorf("%d fields, want at least %d", len(rec), 2+minFields)
	}
	start, err := netip.ParseAddr(rec[0])
	if err != nil {
		return row{}, fmt.Errorf("first address: %w", err)
	}
	end, err := netip.ParseAddr(rec[1])
	if err != nil {
		return row{}, fmt.Errorf("last address: %w", err)
	}
	start, end = start.Unmap().WithZone(""), end.Unmap().WithZone("")
	if start.Is4() != end.Is4() {
		return row{}, fmt.Errorf("range %s-%s mixes IPv4 and IPv6", start, end)
	}
	if end.Less(start) {
		return row{}, fmt.Errorf("range %s-%s ends before it starts", start, end)
	}
	return row{start: start, end: end, fields: rec[2:]}, nil
}

// parseASN reads an AS number ("15169", or "AS15169" as some lists write it).
func parseASN(s string) (uint32, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "AS"), "as")
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("AS number %q: %w", s, err)
	}
	return uint32(n), nil
}

// parseCountry checks an ISO 3166-1 alpha-2 code and upper-cases it.
func parseCountry(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return "", fmt.Errorf("country %q is not a two-letter code", s)
	}
	return s, nil
}

// addRange adds a parsed row's range to t.
func (t *table) addRange(r row, val uint32) {
	if r.start.Is4() {
		s, e := r.start.As4(), r.end.As4()
		t.v4.add(be32(s), be32(e), val)
		return
	}
	t.v6.add(u128Of(r.start.As16()), u128Of(r.end.As16()), val)
}

func be32(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
