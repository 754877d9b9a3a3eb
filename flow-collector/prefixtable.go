package flowcollector

import (
	"net/netip"
	"sort"
)

// prefixTable resolves what is configured per exporter: the longest
// matching prefix wins, an exact exporter address being the longest.
type prefixTable[T any] struct {
	entries []prefixEntry[T] // most specific first
}

type prefixEntry[T any] struct {
	prefix netip.Prefix
	value  T
}

// add configures value for exporter (an address or a prefix).
func (t *prefixTable[T]) add(exporter string, value T) error {
	p, err := parseExporterPrefix(exporter)
	if err != nil {
		return err
	}
	t.entries = append(t.entries, prefixEntry[T]{p, value})
	sort.SliceStable(t.entries, func(i, j int) bool {
		return t.entries[i].prefix.Bits() > t.entries[j].prefix.Bits()
	})
	return nil
}

// lookup returns the value of the most specific entry holding a; the
// zero value when none does.
func (t *prefixTable[T]) lookup(a netip.Addr) T {
	a = a.Unmap()
	for _, e := range t.entries {
		if e.prefix.Contains(a) {
			return e.value
		}
	}
	var zero T
	return zero
}
