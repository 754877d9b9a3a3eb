package snmppoller

import (
	"net/netip"
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

// device is what a poll learnt about the device as a whole.
type device struct {
	name      string // configured target name
	ip        netip.Addr
	sysName   string
	engineID  string // hex, for display
	uptime    uint32
	uptimeAt  time.Time // when the response carrying sysUpTime arrived
	hasUptime bool
}

// sampleOf turns a row into a counter sample.
func sampleOf(d *device, r *ifRow, fallback time.Time) *sample {
	s := &sample{
		at:               r.at,
		uptime:           d.uptime,
		hasUptime:        d.hasUptime,
		discontinuity:    r.discontinuity,
		hasDiscontinuity: r.hasDiscontinuity,
	}
	if s.at.IsZero() {
		s.at = fallback
	}
	// sysUpTime is read once, before the walk; carry it forward to the
	// row's own arrival so that a long walk does not look like a reboot
	// to the next poll.
	if s.hasUptime && s.at.After(d.uptimeAt) {
		s.uptime += uint32(s.at.Sub(d.uptimeAt) / (10 * time.Millisecond))
	}
	s.values, s.width = r.counters()
	return s
}

// buildRecord fills one InterfaceStats from a row, its sample and the rate
// against the previous sample (nil on the first poll).
func buildRecord(d *device, r *ifRow, cur, prev *sample, rt rate) *record.InterfaceStats {
	rec := &record.InterfaceStats{
		TimeNs:       uint64(cur.at.UnixNano()),
		Device:       d.name,
		DeviceIp:     record.IPBytes(d.ip),
		SysName:      d.sysName,
		SnmpEngineId: d.engineID,
		SysUptimeCs:  uint64(d.uptime),
		IfIndex:      r.index,
		IfName:       r.name,
		IfAlias:      r.alias,
		IfDescr:      r.descr,
		SpeedBps:     r.speedBps(),
		OperStatus:   r.oper,
		AdminStatus:  r.admin,
		HcCounters:   r.usesHC(),

		InOctets:     cur.values[inOctets],
		OutOctets:    cur.values[outOctets],
		InUcastPkts:  cur.values[inUcast],
		OutUcastPkts: cur.values[outUcast],
		InMcastPkts:  cur.values[inMcast],
		OutMcastPkts: cur.values[outMcast],
		InBcastPkts:  cur.values[inBcast],
		OutBcastPkts: cur.values[outBcast],
		InErrors:     cur.values[inErrors],
		OutErrors:    cur.values[outErrors],
		InDiscards:   cur.values[inDiscards],
		OutDiscards:  cur.values[outDiscards],

		RateValid:    rt.valid,
		CounterReset: rt.reset,
		CounterWrap:  rt.wrap,
		OverSpeed:    rt.overSpeed,
	}
	if prev != nil {
		rec.PrevTimeNs = uint64(prev.at.UnixNano())
	}
	if !rt.valid && !rt.overSpeed {
		return rec // a baseline: no deltas to give
	}
	dl := &rt.deltas
	rec.DeltaInOctets = dl[inOctets]
	rec.DeltaOutOctets = dl[outOctets]
	// Unicast + multicast + broadcast from ifXTable, or unicast +
	// non-unicast on a MIB-II-only agent: counters() keeps one of the two.
	rec.DeltaInPkts = dl[inUcast] + dl[inMcast] + dl[inBcast] + dl[inNUcast]
	rec.DeltaOutPkts = dl[outUcast] + dl[outMcast] + dl[outBcast] + dl[outNUcast]
	rec.DeltaInErrors = dl[inErrors]
	rec.DeltaOutErrors = dl[outErrors]
	rec.DeltaInDiscards = dl[inDiscards]
	rec.DeltaOutDiscards = dl[outDiscards]
	secs := rt.elapsed.Seconds()
	rec.InBps = float64(rec.DeltaInOctets) * 8 / secs
	rec.OutBps = float64(rec.DeltaOutOctets) * 8 / secs
	rec.InPps = float64(rec.DeltaInPkts) / secs
	rec.OutPps = float64(rec.DeltaOutPkts) / secs
	if rec.SpeedBps > 0 {
		rec.InUtilization = rec.InBps / float64(rec.SpeedBps)
		rec.OutUtilization = rec.OutBps / float64(rec.SpeedBps)
	}
	return rec
}
