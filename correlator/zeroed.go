package correlator

import (
	"net/netip"
	"sync"

	"github.com/netstrata/netstrata/internal/record"
)

// zeroKey is one field of one exporter's flows.
type zeroKey struct {
	exporter [16]byte
	field    string
}

// zeroedFields counts, in one batch, the flows whose field was out of
// range and stored as 0 (see optional).
type zeroedFields map[zeroKey]int

// note counts the fields of one flow, each once.
func (z *zeroedFields) note(exporter [16]byte, fields []string) {
	if len(fields) == 0 {
		return
	}
	if *z == nil {
		*z = zeroedFields{}
	}
	for i, f := range fields {
		if !containsBefore(fields, i, f) {
			(*z)[zeroKey{exporter, f}]++
		}
	}
}

// containsBefore reports whether f is among the first i fields.
func containsBefore(fields []string, i int, f string) bool {
	for _, g := range fields[:i] {
		if g == f {
			return true
		}
	}
	return false
}

// countZeroed adds a batch's zeroed fields to the metric and logs each
// exporter and field once per rate-limit period.
func (c *Component) countZeroed(z zeroedFields) {
	for k, n := range z {
		exporter := c.exporters.label(k.exporter)
		c.m.zeroedFields.WithLabelValues(exporter, k.field).Add(float64(n))
		c.warn.Warn("zeroed:"+exporter+":"+k.field, "flow field out of range, stored as 0 (unknown)",
			"exporter", exporter, "field", k.field, "flows", n)
	}
}

// maxExporterLabels bounds the exporters the per-exporter metrics name;
// the others are counted under "other" (records come from Kafka, where any
// producer may write any exporter address).
const maxExporterLabels = 1000

// exporterLabels names exporters in metrics: the address as written
// (IPv4 without its ::ffff: prefix), for at most maxExporterLabels.
type exporterLabels struct {
	mu    sync.Mutex
	names map[[16]byte]string
}

func (e *exporterLabels) label(a [16]byte) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if name, ok := e.names[a]; ok {
		return name
	}
	if len(e.names) >= maxExporterLabels {
		return "other"
	}
	if e.names == nil {
		e.names = map[[16]byte]string{}
	}
	name := netip.AddrFrom16(a).Unmap().String()
	e.names[a] = name
	return name
}

// flowExporter names the exporter of a flow record that could not be
// stored: its exporter_ip when that is an address, else its Kafka key.
func (c *Component) flowExporter(f *record.Flow, key []byte) string {
	if a, err := ip16(f.ExporterIp, "exporter_ip"); err == nil && len(f.ExporterIp) > 0 {
		return c.exporters.label(a)
	}
	return c.exporters.keyLabel(key)
}

// keyLabel names the exporter of a flow record by its Kafka key (the
// collector keys flows by the exporter's 16-byte address), for records
// that do not decode: "unknown" for any other key.
func (e *exporterLabels) keyLabel(key []byte) string {
	a, err := ip16(key, "key")
	if err != nil || len(key) == 0 {
		return "unknown"
	}
	return e.label(a)
}
