package ipdb

import (
	"cmp"
	"slices"
)

// u128 is an IPv6 address as two big-endian halves: comparing two of
// them is two integer compares, not a 16-byte memcmp.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func u128Of(ip [16]byte) u128 {
	return u128{be64(ip[:8]), be64(ip[8:])}
}

func be64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// span is one range of addresses [start, end] and its value.
type span[A any] struct {
	start, end A
	val        uint32
}

// ranges is a sorted list of disjoint address ranges of one family, each
// with a value (an index into the database's values). The starts are kept
// apart from the ends and values, so that the binary search (about 19
// steps over the 400,000 IPv4 ranges of the AS database) walks a dense
// array.
type ranges[A any] struct {
	starts, ends []A
	vals         []uint32
	pending      []span[A] // added, not yet finished
}

func (r *ranges[A]) add(start, end A, val uint32) {
	r.pending = append(r.pending, span[A]{start, end, val})
}

func (r *ranges[A]) len() int { return len(r.starts) + len(r.pending) }

// finish sorts the added ranges by start into the lookup arrays and
// drops those that overlap the one before (the databases have none; a
// hand-made file might), returning how many it dropped.
func (r *ranges[A]) finish(compare func(a, b A) int) (dropped int) {
	slices.SortStableFunc(r.pending, func(a, b span[A]) int { return compare(a.start, b.start) })
	n := len(r.pending)
	r.starts, r.ends, r.vals = make([]A, 0, n), make([]A, 0, n), make([]uint32, 0, n)
	for _, s := range r.pending {
		if k := len(r.ends); k > 0 && compare(s.start, r.ends[k-1]) <= 0 {
			dropped++
			continue
		}
		r.starts, r.ends, r.vals = append(r.starts, s.start), append(r.ends, s.end), append(r.vals, s.val)
	}
	r.pending = nil
	return dropped
}

// table holds the ranges of both families.
type table struct {
	v4 ranges[uint32]
	v6 ranges[u128]
}

func newTable() *table { return &table{} }

func (t *table) len() int { return t.v4.len() + t.v6.len() }

// bytes is the memory the ranges hold.
func (t *table) bytes() int {
	return cap(t.v4.starts)*4 + cap(t.v4.ends)*4 + cap(t.v4.vals)*4 +
		cap(t.v6.starts)*16 + cap(t.v6.ends)*16 + cap(t.v6.vals)*4
}

func (t *table) finish() int {
	return t.v4.finish(cmp.Compare[uint32]) + t.v6.finish(u128.cmp)
}

// v4Mapped is the prefix of an IPv4-mapped IPv6 address.
var v4Mapped = [12]byte{10: 0xff, 11: 0xff}

// find looks up a 16-byte address (IPv4 as IPv4-mapped). The searches
// are written for each family rather than through a comparison function:
// an indirect call per step made a lookup three times slower.
func (t *table) find(ip [16]byte) (uint32, bool) {
	if [12]byte(ip[:12]) == v4Mapped {
		return t.find4(uint32(ip[12])<<24 | uint32(ip[13])<<16 | uint32(ip[14])<<8 | uint32(ip[15]))
	}
	return t.find6(u128Of(ip))
}

func (t *table) find4(a uint32) (uint32, bool) {
	r := &t.v4
	// i: the first range starting after a; the one before may hold it.
	lo, hi := 0, len(r.starts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if r.starts[m] <= a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 || a > r.ends[lo-1] {
		return 0, false
	}
	return r.vals[lo-1], true
}

func (t *table) find6(a u128) (uint32, bool) {
	r := &t.v6
	lo, hi := 0, len(r.starts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s := r.starts[m]; s.hi < a.hi || (s.hi == a.hi && s.lo <= a.lo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 || a.cmp(r.ends[lo-1]) > 0 {
		return 0, false
	}
	return r.vals[lo-1], true
}
