package correlator

import (
	"slices"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/schema"
)

// flowBasisCols are the columns that say what a flow's numbers are
// measured against (schema migration 10): the clock that placed it, how
// the interfaces are encoded, what its bytes count.
type flowBasisCols struct {
	timeBasis, inIfKind, outIfKind, byteBasis []int8
	skewMs                                    []int64
	inIfDetail, outIfDetail                   []uint32
}

func (b *flowBasisCols) reserve(n int) {
	for _, s := range []*[]int8{&b.timeBasis, &b.inIfKind, &b.outIfKind, &b.byteBasis} {
		*s = slices.Grow(*s, n)
	}
	b.skewMs = slices.Grow(b.skewMs, n)
	b.inIfDetail = slices.Grow(b.inIfDetail, n)
	b.outIfDetail = slices.Grow(b.outIfDetail, n)
}

func (b *flowBasisCols) add(f *record.Flow) {
	b.timeBasis = append(b.timeBasis, enum8(int32(f.TimeBasis), 2))
	b.skewMs = append(b.skewMs, f.ExporterClockSkewNs/1e6)
	b.inIfKind = append(b.inIfKind, enum8(int32(f.InIfKind), 3))
	b.inIfDetail = append(b.inIfDetail, f.InIfDetail)
	b.outIfKind = append(b.outIfKind, enum8(int32(f.OutIfKind), 3))
	b.outIfDetail = append(b.outIfDetail, f.OutIfDetail)
	b.byteBasis = append(b.byteBasis, enum8(int32(f.ByteBasis), 1))
}

func (b *flowBasisCols) columns() []column {
	return []column{
		{schema.FlowTimeBasis, b.timeBasis}, {schema.FlowExporterClockSkewMs, b.skewMs},
		{schema.FlowInIfKind, b.inIfKind}, {schema.FlowInIfDetail, b.inIfDetail}, {schema.FlowOutIfKind, b.outIfKind},
		{schema.FlowOutIfDetail, b.outIfDetail}, {schema.FlowByteBasis, b.byteBasis},
	}
}

// ifIndex is the ifIndex a flow's interface may be joined on: none (0)
// unless the exporter said it is one. sFlow's "internal", "discarded"
// and "multiple" carry a marker, a reason code or a count, which read as
// an ifIndex would name an unrelated SNMP interface.
func ifIndex(index uint32, kind record.InterfaceKind) uint32 {
	if kind != record.InterfaceKind_INTERFACE_KIND_IFINDEX {
		return 0
	}
	return index
}
