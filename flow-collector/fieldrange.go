package flowcollector

// An optional field whose value no column can hold (a VLAN of
// 0xFFFFFFFF, "unknown" on some switches; a 24-bit port) is stored as
// unknown (0) and counted per exporter and field, and the flow is kept:
// one bad optional field never loses the flow. Fields are named by the
// flow column they fill, which is also what the correlator's checks
// name.

// Largest values of the bounded columns.
const (
	maxVlan      = 0xfff
	maxUint8     = 0xff
	maxUint16    = 0xffff
	maxUint32    = 0xffffffff
	maxMPLSLabel = 0xfffff
	maxFlowLabel = 0xfffff
)

// bounded returns v when it is at most max; otherwise it counts field as
// zeroed for the exporter of the record being mapped (set by resetFlow),
// logs it rate-limited, and returns 0.
func (d *decoder) bounded(field string, v, max uint64) uint32 {
	if v <= max {
		return uint32(v)
	}
	d.zeroField(field, v)
	return 0
}

// zeroField counts and logs (rate-limited) an out-of-range value of an
// optional field stored as unknown.
func (d *decoder) zeroField(field string, v uint64) {
	e := d.cur
	e.metrics().fieldsZeroed.WithLabelValues(field).Inc()
	d.c.badLog.Warn(e.addr.String()+"zeroed-"+field, "out-of-range field stored as unknown (0), flow kept",
		"exporter", e.addr, "field", field, "value", v)
}

// dropRecord counts a record decoded but not published, and logs it
// rate-limited.
func (d *decoder) dropRecord(e *exporter, reason string, args ...any) {
	e.metrics().recordsDropped.WithLabelValues(reason).Inc()
	d.c.badLog.Warn(e.addr.String()+"dropped-"+reason, "flow record dropped",
		append([]any{"exporter", e.addr, "reason", reason}, args...)...)
}
