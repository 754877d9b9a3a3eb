package correlator

import (
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/record"
)

func TestIfStatsOfDevicesBehindOneAddressAreStoredApartWithTheirIdentity(t *testing.T) {
	e := newEnv(t)
	e.start(testConfiguration("g", 500))
	now := nowNs()
	// Two devices behind one SNMP proxy, the same ifIndex on both: a
	// MIB-II-only PDU counting non-unicast packets, and an FC switch whose
	// speed came from ifHighSpeed.
	pdu := testIfStats(3, "outlet-3", now)
	pdu.Device, pdu.SysName, pdu.SnmpEngineId, pdu.SpeedBps = "pdu-1", "apc-pdu", "8000318a03000000", 100_000_000
	pdu.RateValid, pdu.DeltaInPkts, pdu.InPps, pdu.OutPps = true, 1400, 140, 230
	fc := testIfStats(3, "fc1/3", now)
	fc.Device, fc.SysName, fc.SnmpEngineId, fc.SpeedBps = "fabric-a", "brocade-a", "800007c703001b2c3d", 8_000_000_000
	fc.RateValid, fc.InBps, fc.InUtilization = true, 1e9, 0.125
	e.produce(record.TopicIfStats, pdu, fc)
	e.waitRows("SELECT count() FROM ifstats", 2, time.Minute)
	// A view's rows may show a moment after the raw table's.
	latest := "SELECT count() FROM interfaces_latest FINAL WHERE device_ip = toIPv6('192.0.2.1') AND if_index = 3"
	if n := e.waitRows(latest, 2, time.Minute); n != 2 {
		t.Errorf("%d rows, want one per device: %s", n, latest)
	}

	for query, want := range map[string]uint64{
		`SELECT count() FROM ifstats WHERE device = 'pdu-1' AND sys_name = 'apc-pdu' AND snmp_engine_id = '8000318a03000000'
			AND if_index = 3 AND delta_in_pkts = 1400 AND in_pps = 140 AND out_pps = 230 AND speed_bps = 100000000`: 1,
		`SELECT count() FROM ifstats WHERE device = 'fabric-a' AND sys_name = 'brocade-a' AND snmp_engine_id = '800007c703001b2c3d'
			AND if_index = 3 AND speed_bps = 8000000000 AND in_utilization = 0.125`: 1,
	} {
		if n := e.count(query); n != want {
			t.Errorf("%d rows, want %d: %s", n, want, query)
		}
	}
}
