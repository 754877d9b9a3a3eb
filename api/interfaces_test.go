package api

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// seedOneAddressTwoDevices stores polls of two devices reached through
// one address (an SNMP proxy), with the same ifIndexes and different
// traffic, and of a third device elsewhere.
func seedOneAddressTwoDevices(t *testing.T, a *testAPI, now time.Time) {
	t.Helper()
	var rows []ifRow
	for m := 10; m >= 1; m-- {
		at := now.Add(-time.Duration(m) * time.Minute)
		for idx := uint32(1); idx <= 4; idx++ {
			rows = append(rows,
				ifRow{t: at, device: "core-a", ip: "192.0.2.10", idx: idx, name: fmt.Sprintf("a-p%d", idx), speed: 1e9, inOct: 60_000_000},
				ifRow{t: at, device: "core-b", ip: "192.0.2.10", idx: idx, name: fmt.Sprintf("b-p%d", idx), speed: 1e9, inOct: 180_000_000},
				ifRow{t: at, device: "edge", ip: "192.0.2.20", idx: idx, name: fmt.Sprintf("e-p%d", idx), speed: 1e9, inOct: 6_000_000})
		}
	}
	insertIfStats(t, a.conn, rows)
	// core-a's latest poll also read its SNMP engine ID.
	err := a.conn.Exec(context.Background(), `INSERT INTO ifstats (time, prev_time, device, device_ip, sys_name, snmp_engine_id,
		if_index, if_name, speed_bps, oper_status, admin_status, rate_valid, in_bps, out_bps, kafka_partition, kafka_offset)
		VALUES (?, ?, 'core-a', toIPv6('192.0.2.10'), 'core-a', '80001f8880c1d2e3f4', 1, 'a-p1', 1000000000, 1, 1, true, 8000000, 0, 0, 0)`,
		now.Add(-30*time.Second), now.Add(-90*time.Second))
	if err != nil {
		t.Fatal(err)
	}
}

func TestInterfacesOfDevicesBehindOneAddressAreListedApart(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC().Truncate(time.Minute)
	seedOneAddressTwoDevices(t, a, now)

	list := func(q url.Values) []Interface {
		t.Helper()
		var r InterfacesResponse
		if st := a.get(t, "/api/v1/interfaces", q, &r); st != 200 {
			t.Fatalf("interfaces %v: status %d", q, st)
		}
		return r.Interfaces
	}
	all := list(url.Values{})
	if len(all) != 12 {
		t.Fatalf("%d interfaces without device=, want 12 (4 on each of 3 devices)", len(all))
	}
	for _, i := range all {
		prefix := map[string]string{"core-a": "a-", "core-b": "b-", "edge": "e-"}[i.Device]
		wantBps := map[string]float64{"core-a": 8e6, "core-b": 24e6, "edge": 0.8e6}[i.Device]
		if !strings.HasPrefix(i.Name, prefix) || i.InBps != wantBps || i.SysName != i.Device {
			t.Errorf("%s ifIndex %d: name %q in_bps %v sys_name %q: rows of two devices mixed", i.Device, i.IfIndex, i.Name, i.InBps, i.SysName)
		}
		if wantID := map[bool]string{true: "80001f8880c1d2e3f4"}[i.Device == "core-a" && i.IfIndex == 1]; i.EngineID != wantID {
			t.Errorf("%s ifIndex %d: engine ID %q, want %q", i.Device, i.IfIndex, i.EngineID, wantID)
		}
	}
	byIP := list(url.Values{"device": {"192.0.2.10"}})
	if len(byIP) != 8 || byIP[0].Device != "core-a" || byIP[7].Device != "core-b" || byIP[0].DeviceIP != "192.0.2.10" {
		t.Fatalf("by address: %d interfaces (%+v), want core-a's 4 then core-b's 4", len(byIP), byIP)
	}
	one := list(url.Values{"device": {"core-b"}, "if_index": {"2"}})
	if len(one) != 1 || one[0].Name != "b-p2" || one[0].InBps != 24e6 {
		t.Fatalf("core-b ifIndex 2: %+v", one)
	}
}

func TestSeriesOfAnAddressWithTwoDevicesAsksForAName(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC().Truncate(time.Minute)
	seedOneAddressTwoDevices(t, a, now)
	q := url.Values{"if_index": {"1"}, "from": {now.Add(-15 * time.Minute).Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)}}

	var e struct {
		Error struct {
			Message   string `json:"message"`
			Parameter string `json:"parameter"`
		} `json:"error"`
	}
	q.Set("device", "192.0.2.10")
	if st := a.get(t, "/api/v1/interfaces/series", q, &e); st != 400 || e.Error.Parameter != "device" || !strings.Contains(e.Error.Message, "core-a, core-b") {
		t.Fatalf("series by a shared address: status %d %+v, want 400 naming core-a and core-b", st, e.Error)
	}
	for device, bps := range map[string]float64{"core-b": 24e6, "192.0.2.20": 0.8e6} {
		var ser SeriesResponse
		q.Set("device", device)
		if st := a.get(t, "/api/v1/interfaces/series", q, &ser); st != 200 {
			t.Fatalf("series of %s: status %d", device, st)
		}
		if len(ser.Points) == 0 {
			t.Fatalf("series of %s: no points", device)
		}
		for _, pt := range ser.Points {
			if pt.InBps != bps {
				t.Errorf("series of %s at %s: in_bps %v, want %v (one device's traffic only)", device, pt.Time, pt.InBps, bps)
			}
		}
	}
}

func TestInterfacesAnswerThePacketRatesAndSpeedsThePollerStored(t *testing.T) {
	// As the poller stores them: a MIB-II-only PDU whose packets include
	// ifIn/OutNUcastPkts, a Brocade port whose speed is ifHighSpeed's.
	a := newTestAPI(t)
	now := time.Now().UTC().Truncate(time.Minute)
	err := a.conn.Exec(context.Background(), `INSERT INTO ifstats (time, prev_time, device, device_ip, sys_name, if_index, if_name,
		speed_bps, oper_status, admin_status, rate_valid, delta_in_pkts, delta_out_pkts, in_bps, out_bps, in_pps, out_pps,
		in_utilization, out_utilization, kafka_partition, kafka_offset) VALUES
		(?, ?, 'pdu-1', toIPv6('192.0.2.30'), 'apc', 1, 'eth0', 100000000, 1, 1, true, 1400, 2300, 100000, 200000, 140, 230, 0.001, 0.002, 0, 1),
		(?, ?, 'fabric-a', toIPv6('192.0.2.31'), 'brocade', 3, 'fc1/3', 8000000000, 1, 1, true, 0, 0, 1000000000, 0, 0, 0, 0.125, 0, 0, 2)`,
		now.Add(-time.Minute), now.Add(-time.Minute-10*time.Second), now.Add(-time.Minute), now.Add(-time.Minute-10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var r InterfacesResponse
	if st := a.get(t, "/api/v1/interfaces", url.Values{}, &r); st != 200 || len(r.Interfaces) != 2 {
		t.Fatalf("status %d, %d interfaces, want 2", st, len(r.Interfaces))
	}
	fc, pdu := r.Interfaces[0], r.Interfaces[1] // by device name
	if pdu.Device != "pdu-1" || pdu.InPps != 140 || pdu.OutPps != 230 || pdu.SpeedBps != 100_000_000 {
		t.Errorf("pdu-1: %+v, want in_pps 140, out_pps 230 on 100 Mbit/s", pdu)
	}
	if fc.Device != "fabric-a" || fc.SpeedBps != 8_000_000_000 || fc.InUtilization != 0.125 || fc.InBps != 1e9 {
		t.Errorf("fabric-a: %+v, want 1 Gbit/s on 8 Gbit/s: utilisation 0.125", fc)
	}
}

func TestReconciliationKeepsDevicesBehindOneAddressApart(t *testing.T) {
	a := newTestAPI(t)
	now := time.Now().UTC().Truncate(time.Minute)
	seedOneAddressTwoDevices(t, a, now)
	var r ReconciliationResponse
	if st := a.get(t, "/api/v1/reconciliation", url.Values{"from": {now.Add(-time.Hour).Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)}}, &r); st != 200 {
		t.Fatalf("status %d", st)
	}
	names := map[string]map[string]bool{}
	for _, row := range r.Rows {
		if names[row.Device] == nil {
			names[row.Device] = map[string]bool{}
		}
		names[row.Device][row.Interface] = true
	}
	for device, prefix := range map[string]string{"core-a": "a-", "core-b": "b-", "edge": "e-"} {
		if len(names[device]) != 4 {
			t.Errorf("%s: interfaces %v, want its 4", device, names[device])
		}
		for n := range names[device] {
			if !strings.HasPrefix(n, prefix) {
				t.Errorf("%s lists %s: rows of two devices merged", device, n)
			}
		}
	}
}
