package snmppoller

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/record"
	"github.com/netstrata/netstrata/internal/testenv"

	"github.com/netstrata/netstrata/internal/bus/bustest"
)

// Tests against snmpsim serving recordings of device shapes met in the
// field: a MIB-II-only agent, a saturated ifSpeed, two devices behind one
// address, a device too big to walk within its interval.

// within reports whether got is within frac of want.
func within(got, want, frac float64) bool { return math.Abs(got-want) <= frac*want }

// simReadSlack is how far from our receive time snmpsim (Python, on
// shared cores) may have read a counter: somewhere between our request
// and its answer, ~0.1 s apart and more on a loaded machine.
const simReadSlack = 250 * time.Millisecond

// rateWithin reports whether a rate r computed over snmpsim's
// time-derived counters is within 5 % of want, or within what the
// simulator's read time can move it over r's window. A counter of the
// wrong row or device is off by far more; exact ratios are checked apart.
func rateWithin(r *record.InterfaceStats, got, want float64) bool {
	gap := time.Duration(r.TimeNs - r.PrevTimeNs)
	return within(got, want, max(0.05, simReadSlack.Seconds()/gap.Seconds()))
}

// twoPolls polls name twice, gap apart, and returns the second poll's
// records by ifIndex.
func twoPolls(t *testing.T, c *Component, pub *bustest.Publisher, name string, gap time.Duration) map[uint32]*record.InterfaceStats {
	t.Helper()
	pollOnce(t, c, pub, name)
	time.Sleep(gap)
	return byIndex(pollOnce(t, c, pub, name))
}

func TestPacketRatesOfAMIB2OnlyAgentCountNonUnicastPackets(t *testing.T) {
	pdu := recDevice{sysName: "pdu-1", interfaces: 2, ifSpeed: speedOf(100_000_000),
		rates: recRates{inOctets: 12_500, outOctets: 25_000, inUcast: 100, inNUcast: 40, outUcast: 200, outNUcast: 30}}
	sim := startSnmpsim(t, map[string]string{"pdu": pdu.snmprec()})
	c, pub := newTestComponent(t, oneTargetConfig(sim.target("pdu-1", "pdu")))

	first := byIndex(pollOnce(t, c, pub, "pdu-1"))
	time.Sleep(2 * time.Second)
	second := byIndex(pollOnce(t, c, pub, "pdu-1"))
	if len(second) != 2 {
		t.Fatalf("%d interfaces, want 2", len(second))
	}
	for i, r := range second {
		if !r.RateValid || r.HcCounters || r.CounterReset {
			t.Fatalf("ifIndex %d: valid=%v hc=%v reset=%v", i, r.RateValid, r.HcCounters, r.CounterReset)
		}
		// Unicast and non-unicast counts of one row come in one response,
		// so their ratio does not depend on timing: 140/100 and 230/200.
		inU, outU := r.InUcastPkts-first[i].InUcastPkts, r.OutUcastPkts-first[i].OutUcastPkts
		if got := float64(r.DeltaInPkts) / float64(inU); !within(got, 1.4, 0.02) {
			t.Errorf("ifIndex %d: %d packets in for %d unicast (×%.3f), want ×1.4: non-unicast left out?", i, r.DeltaInPkts, inU, got)
		}
		if got := float64(r.DeltaOutPkts) / float64(outU); !within(got, 1.15, 0.02) {
			t.Errorf("ifIndex %d: %d packets out for %d unicast (×%.3f), want ×1.15", i, r.DeltaOutPkts, outU, got)
		}
		if !rateWithin(r, r.InPps, 140) || !rateWithin(r, r.OutPps, 230) {
			t.Errorf("ifIndex %d: in_pps %.1f out_pps %.1f, want 140 and 230", i, r.InPps, r.OutPps)
		}
		if !rateWithin(r, r.InBps, 100_000) || r.SpeedBps != 100_000_000 {
			t.Errorf("ifIndex %d: in_bps %.0f speed %d, want 100000 on 100 Mbit/s", i, r.InBps, r.SpeedBps)
		}
	}
}

func TestPacketRatesWithIfXTableCountMulticastAndBroadcastNotNonUnicastTwice(t *testing.T) {
	// An agent that still serves the deprecated ifIn/OutNUcastPkts next
	// to ifXTable: the non-unicast packets must not be counted twice.
	sw := recDevice{sysName: "access-1", interfaces: 2, ifX: true, hc: true, ifSpeed: speedOf(1_000_000_000), highSpeed: speedOf(1000),
		rates: recRates{inOctets: 125_000, outOctets: 125_000, inUcast: 100, inNUcast: 40, inMcast: 30, inBcast: 10,
			outUcast: 200, outNUcast: 30, outMcast: 20, outBcast: 10}}
	sim := startSnmpsim(t, map[string]string{"access": sw.snmprec()})
	c, pub := newTestComponent(t, oneTargetConfig(sim.target("access-1", "access")))

	first := byIndex(pollOnce(t, c, pub, "access-1"))
	time.Sleep(2 * time.Second)
	for i, r := range byIndex(pollOnce(t, c, pub, "access-1")) {
		p := first[i]
		want := (r.InUcastPkts - p.InUcastPkts) + (r.InMcastPkts - p.InMcastPkts) + (r.InBcastPkts - p.InBcastPkts)
		if !r.RateValid || !r.HcCounters || r.DeltaInPkts != want {
			t.Errorf("ifIndex %d: valid=%v hc=%v delta_in_pkts %d, want unicast+multicast+broadcast %d", i, r.RateValid, r.HcCounters, r.DeltaInPkts, want)
		}
		if !rateWithin(r, r.InPps, 140) || !rateWithin(r, r.OutPps, 230) {
			t.Errorf("ifIndex %d: in_pps %.1f out_pps %.1f, want 140 and 230", i, r.InPps, r.OutPps)
		}
	}
}

func TestPacketRatesStayWhenOnlyTheOctetsAre64Bit(t *testing.T) {
	// RFC 2863 asks 20-650 Mbit/s interfaces for 64-bit octets only: the
	// packet counts stay in the 32-bit columns, poll after poll.
	sw := recDevice{sysName: "fast-ethernet", interfaces: 2, ifX: true, hcOctets: true, ifSpeed: speedOf(100_000_000), highSpeed: speedOf(100),
		rates: recRates{inOctets: 12_500, outOctets: 25_000, inUcast: 100, inMcast: 30, inBcast: 10, outUcast: 200, outMcast: 20, outBcast: 10}}
	sim := startSnmpsim(t, map[string]string{"fe": sw.snmprec()})
	c, pub := newTestComponent(t, oneTargetConfig(sim.target("fe-1", "fe")))
	pollOnce(t, c, pub, "fe-1")
	for poll := 2; poll <= 3; poll++ {
		time.Sleep(time.Second)
		for i, r := range byIndex(pollOnce(t, c, pub, "fe-1")) {
			if !r.RateValid || r.CounterReset || !r.HcCounters || !rateWithin(r, r.InPps, 140) || !rateWithin(r, r.OutPps, 230) {
				t.Errorf("poll %d ifIndex %d: valid=%v reset=%v hc=%v in_pps %.1f out_pps %.1f, want 140 and 230",
					poll, i, r.RateValid, r.CounterReset, r.HcCounters, r.InPps, r.OutPps)
			}
		}
	}
}

func TestSaturatedIfSpeedGivesWayToIfHighSpeed(t *testing.T) {
	// A Brocade FC switch: ifSpeed at (or one below) its ceiling on fast
	// ports, ifHighSpeed right.
	speeds := map[int][2]uint32{ // ifIndex: ifSpeed, ifHighSpeed
		1: {4294967294, 8000},
		2: {4294967295, 16000},
		3: {1_000_000_000, 1000},
		4: {4294967295, 0}, // nothing better known: the ceiling it says
		5: {0, 32000},
	}
	fc := recDevice{sysName: "fc-switch", interfaces: 5, ifX: true, hc: true,
		ifSpeed:   func(i int) uint32 { return speeds[i][0] },
		highSpeed: func(i int) uint32 { return speeds[i][1] },
		rates:     recRates{inOctets: 100_000_000, outOctets: 50_000_000, inUcast: 1000, outUcast: 1000}}
	sim := startSnmpsim(t, map[string]string{"fabric": fc.snmprec()})
	c, pub := newTestComponent(t, oneTargetConfig(sim.target("fc-switch", "fabric")))

	want := map[uint32]uint64{1: 8_000_000_000, 2: 16_000_000_000, 3: 1_000_000_000, 4: 4294967295, 5: 32_000_000_000}
	for i, r := range twoPolls(t, c, pub, "fc-switch", time.Second) {
		if r.SpeedBps != want[i] {
			t.Errorf("ifIndex %d: speed %d b/s, want %d", i, r.SpeedBps, want[i])
		}
		if !r.RateValid {
			t.Errorf("ifIndex %d: rate not valid (over_speed=%v)", i, r.OverSpeed)
			continue
		}
		if u := r.InBps / float64(want[i]); math.Abs(r.InUtilization-u) > 1e-9 {
			t.Errorf("ifIndex %d: in utilisation %.4f, want %.4f of %d b/s", i, r.InUtilization, u, want[i])
		}
	}
}

func TestTwoDevicesBehindOneAddressStayApart(t *testing.T) {
	// An SNMP proxy: one address and port, one community per device, the
	// same ifIndexes on both; and a third device on another port of the
	// same address, named by default.
	a := recDevice{sysName: "chassis-a", interfaces: 3, ifX: true, hc: true, ifSpeed: speedOf(1_000_000_000), highSpeed: speedOf(1000),
		rates: recRates{inOctets: 125_000, outOctets: 12_500, inUcast: 100, outUcast: 10}}
	b := a
	b.sysName, b.rates.inOctets, b.rates.inUcast = "chassis-b", 250_000, 300
	proxy := startSnmpsim(t, map[string]string{"ctx-a": a.snmprec(), "ctx-b": b.snmprec()})
	nat := startSnmpsim(t, map[string]string{"ctx-a": a.snmprec()})

	cfg := oneTargetConfig(proxy.target("core-a", "ctx-a"))
	cfg.Targets = append(cfg.Targets, proxy.target("core-b", "ctx-b"), nat.target("", "ctx-a"))
	c, pub := newTestComponent(t, cfg)
	natName := fmt.Sprintf("127.0.0.1:%d", nat.port)
	want := map[string]struct {
		sysName string
		inBps   float64
	}{"core-a": {"chassis-a", 1_000_000}, "core-b": {"chassis-b", 2_000_000}, natName: {"chassis-a", 1_000_000}}

	for name := range want {
		pollOnce(t, c, pub, name)
	}
	time.Sleep(time.Second)
	for name, w := range want {
		recs := pollOnce(t, c, pub, name) // checks the Kafka key is the name
		if len(recs) != 3 {
			t.Fatalf("%s: %d records, want 3", name, len(recs))
		}
		for _, r := range recs {
			if r.Device != name || r.SysName != w.sysName || r.IfDescr != fmt.Sprintf("%s port %d", w.sysName, r.IfIndex) {
				t.Errorf("%s ifIndex %d: device %q sysName %q descr %q", name, r.IfIndex, r.Device, r.SysName, r.IfDescr)
			}
			if !r.RateValid || !rateWithin(r, r.InBps, w.inBps) {
				t.Errorf("%s ifIndex %d: valid=%v in_bps %.0f, want %.0f: another device's counters?", name, r.IfIndex, r.RateValid, r.InBps, w.inBps)
			}
			if ip, _ := netip.AddrFromSlice(r.DeviceIp); ip.Unmap() != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("%s: device_ip %v", name, ip)
			}
		}
	}
}

func TestAWalkLongerThanTheIntervalLandsAndSkipsTheSlotsItMissed(t *testing.T) {
	// An H3C core with 1,317 interfaces. snmpsim answers at most 32
	// varbinds a response here, so a walk takes some 800 requests: seconds,
	// on any machine.
	big := recDevice{sysName: "h3c-core", interfaces: 1317, ifX: true, hc: true, ifSpeed: speedOf(1_000_000_000), highSpeed: speedOf(1000),
		rates: recRates{inOctets: 125_000, outOctets: 62_500, inUcast: 100, outUcast: 50, inMcast: 10, inBcast: 5}}
	sim := startSnmpsim(t, map[string]string{"core": big.snmprec()}, "--max-varbinds=32")
	cfg := oneTargetConfig(sim.target("h3c-core", "core"))
	cfg.Defaults.Interval = time.Second // shorter than any walk of this device
	logs := &testenv.LogBuffer{}
	pub := &bustest.Publisher{}
	c, err := New(logReporter(logs), cfg, Dependencies{Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	polls := func() float64 { return metricValue(t, c, "polls", "h3c-core") }
	waitFor(t, 3*time.Minute, "3 polls", func() bool { return polls() >= 3 })
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	if f := metricValue(t, c, "failures", "h3c-core"); f != 0 {
		t.Fatalf("%v of %v polls failed: a walk longer than the interval was cut short", f, polls())
	}
	if s := metricValue(t, c, "skipped", "h3c-core"); s < 1 {
		t.Errorf("%v slots skipped, want at least one per poll", s)
	}
	recs := bustest.Decode[record.InterfaceStats](pub.Take(), "")
	if n := float64(len(recs)); n != 1317*polls() {
		t.Fatalf("%v records for %v polls of 1317 interfaces", n, polls())
	}
	valid := 0
	for _, r := range recs {
		if r.PrevTimeNs == 0 {
			continue // the first poll: a baseline
		}
		valid++
		gap := time.Duration(r.TimeNs - r.PrevTimeNs)
		if !r.RateValid || r.CounterReset || gap <= cfg.Defaults.Interval {
			t.Fatalf("ifIndex %d: valid=%v reset=%v over a gap of %s", r.IfIndex, r.RateValid, r.CounterReset, gap)
		}
		// snmpsim (Python, on shared cores) reads a counter some time
		// between our request and its answer, ~0.1 s apart and more on a
		// loaded machine. A wrong gap would be off by a whole interval:
		// allow half of that share, and never less than 5 %.
		tol := max(0.05, 0.5*cfg.Defaults.Interval.Seconds()/gap.Seconds())
		if !within(r.InBps, 1_000_000, tol) || !within(r.OutBps, 500_000, tol) || !within(r.InPps, 115, tol) {
			t.Fatalf("ifIndex %d over %s: in %.0f b/s out %.0f b/s in %.1f pps, want 1000000, 500000, 115", r.IfIndex, gap, r.InBps, r.OutBps, r.InPps)
		}
	}
	if valid == 0 {
		t.Fatal("no poll after the first")
	}
	warn := logs.Matching("poll outlives its interval")
	if len(warn) != 1 {
		t.Fatalf("%d warnings about the slow walk, want one:\n%s", len(warn), logs)
	}
	for _, attr := range []string{"target=h3c-core", "walk_time=", "interval=1s", "sustainable_interval="} {
		if !strings.Contains(warn[0], attr) {
			t.Errorf("warning lacks %s: %s", attr, warn[0])
		}
	}
	t.Log(warn[0])
}

func TestSNMPv3ContextsOfOneChassisAreTwoDevices(t *testing.T) {
	red := recDevice{sysName: "chassis-red", interfaces: 2, ifX: true, hc: true, ifSpeed: speedOf(1_000_000_000), highSpeed: speedOf(1000),
		rates: recRates{inOctets: 125_000, inUcast: 100}}
	blue := red
	blue.sysName, blue.rates.inOctets = "chassis-blue", 375_000
	u := V3Credentials{User: "poller", AuthProtocol: "sha", AuthPassword: "auth-pass-9", PrivProtocol: "aes", PrivPassword: "priv-pass-9"}
	sim := startSnmpsim(t, map[string]string{"vrf-red": red.snmprec(), "vrf-blue": blue.snmprec()}, snmpsimV3(u)...)
	cfg := oneTargetConfig(sim.v3Target(u, "vrf-red"))
	cfg.Targets = append(cfg.Targets, sim.v3Target(u, "vrf-blue"))
	c, pub := newTestComponent(t, cfg)

	prefix := fmt.Sprintf("127.0.0.1:%d/", sim.port)
	engines := map[string]bool{}
	for ctx, w := range map[string]struct {
		sysName string
		inBps   float64
	}{"vrf-red": {"chassis-red", 1e6}, "vrf-blue": {"chassis-blue", 3e6}} {
		for _, r := range twoPolls(t, c, pub, prefix+ctx, time.Second) {
			if r.Device != prefix+ctx || r.SysName != w.sysName || !r.RateValid || !rateWithin(r, r.InBps, w.inBps) {
				t.Errorf("%s ifIndex %d: device %q sysName %q valid=%v in_bps %.0f, want %.0f", ctx, r.IfIndex, r.Device, r.SysName, r.RateValid, r.InBps, w.inBps)
			}
			engines[r.SnmpEngineId] = true
		}
	}
	if len(engines) != 1 || engines[""] {
		t.Errorf("engine IDs %v: want the one agent's, shown for both contexts", engines)
	}
}

func TestRecordsShowTheEngineIDTheAgentServes(t *testing.T) {
	sw := recDevice{sysName: "arista-1", interfaces: 1, ifX: true, hc: true, ifSpeed: speedOf(1_000_000_000), highSpeed: speedOf(1000),
		engineID: "8000761303001c7308aabb", rates: recRates{inOctets: 125_000}}
	sim := startSnmpsim(t, map[string]string{"shown": sw.snmprec()})
	c, pub := newTestComponent(t, oneTargetConfig(sim.target("arista-1", "shown")))
	recs := pollOnce(t, c, pub, "arista-1")
	if len(recs) != 1 || recs[0].SnmpEngineId != "8000761303001c7308aabb" || recs[0].SysName != "arista-1" {
		t.Fatalf("records %+v, want one with the engine ID 8000761303001c7308aabb", recs)
	}
}

func TestAWalkCompletesWhenResponsesHoldFewerVarbindsThanColumns(t *testing.T) {
	// An agent with a small message size cuts every GETBULK answer short
	// of one row of the 28 columns walked side by side: the columns come
	// in waves, and every interface is still read whole.
	sw := recDevice{sysName: "small-pdu", interfaces: 6, ifX: true, hc: true, ifSpeed: speedOf(1_000_000_000), highSpeed: speedOf(1000),
		rates: recRates{inOctets: 125_000, outOctets: 62_500, inUcast: 100, outUcast: 50}}
	sim := startSnmpsim(t, map[string]string{"small": sw.snmprec()}, "--max-varbinds=8")
	c, pub := newTestComponent(t, oneTargetConfig(sim.target("small-pdu", "small")))
	recs := twoPolls(t, c, pub, "small-pdu", time.Second)
	if len(recs) != 6 {
		t.Fatalf("%d interfaces, want 6", len(recs))
	}
	for i, r := range recs {
		if r.IfName != fmt.Sprintf("p%d", i) || r.IfAlias == "" || r.SpeedBps != 1e9 || !r.RateValid || !rateWithin(r, r.InBps, 1e6) || !rateWithin(r, r.InPps, 100) {
			t.Errorf("ifIndex %d: name %q alias %q speed %d valid=%v in_bps %.0f in_pps %.1f", i, r.IfName, r.IfAlias, r.SpeedBps, r.RateValid, r.InBps, r.InPps)
		}
	}
}
