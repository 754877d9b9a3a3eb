package snmppoller

import (
	"math"
	"strings"
	"testing"
	"time"
)

func startSim(t *testing.T, c simConfig) *simAgent {
	t.Helper()
	a, err := startSimAgent(c)
	if err != nil {
		t.Fatalf("start simulated agent: %v", err)
	}
	t.Cleanup(a.close)
	return a
}

func oneTargetConfig(tg Target) Configuration {
	cfg := DefaultConfiguration()
	cfg.Defaults.Timeout = time.Second
	cfg.Targets = []Target{tg}
	return cfg
}

func TestPollPublishesOneRecordPerInterfaceWithHCCounters(t *testing.T) {
	a := startSim(t, defaultSimConfig("sw1"))
	c, pub := newTestComponent(t, oneTargetConfig(simTarget(a)))

	first := pollOnce(t, c, pub, "sw1")
	if len(first) != 48 {
		t.Fatalf("first poll: %d records, want 48", len(first))
	}
	for _, r := range first {
		if r.RateValid || r.CounterReset {
			t.Fatalf("ifIndex %d: first poll must be a baseline only: %+v", r.IfIndex, r)
		}
	}
	time.Sleep(50 * time.Millisecond)
	second := byIndex(pollOnce(t, c, pub, "sw1"))
	prev := byIndex(first)
	for i := uint32(1); i <= 48; i++ {
		r, p := second[i], prev[i]
		if r == nil {
			t.Fatalf("ifIndex %d missing in second poll", i)
		}
		if !r.RateValid || !r.HcCounters || r.CounterWrap || r.CounterReset || r.OverSpeed {
			t.Fatalf("ifIndex %d flags: valid=%v hc=%v wrap=%v reset=%v over=%v", i, r.RateValid, r.HcCounters, r.CounterWrap, r.CounterReset, r.OverSpeed)
		}
		if r.Device != "sw1" || r.SysName != "sw1" || r.IfName == "" || r.IfAlias == "" || r.IfDescr == "" {
			t.Fatalf("ifIndex %d identity: %q %q %q %q %q", i, r.Device, r.SysName, r.IfName, r.IfAlias, r.IfDescr)
		}
		if r.SpeedBps != 1_000_000_000 || r.OperStatus != 1 || r.AdminStatus != 1 {
			t.Fatalf("ifIndex %d speed %d oper %d admin %d", i, r.SpeedBps, r.OperStatus, r.AdminStatus)
		}
		if r.DeltaInOctets != r.InOctets-p.InOctets || r.DeltaOutPkts != r.OutUcastPkts-p.OutUcastPkts {
			t.Fatalf("ifIndex %d deltas %d/%d do not match raw counters %d-%d", i, r.DeltaInOctets, r.DeltaOutPkts, r.InOctets, p.InOctets)
		}
		if r.PrevTimeNs != p.TimeNs || r.TimeNs <= r.PrevTimeNs {
			t.Fatalf("ifIndex %d times %d after %d", i, r.TimeNs, r.PrevTimeNs)
		}
		want := float64(r.DeltaInOctets) * 8 / (float64(r.TimeNs-r.PrevTimeNs) / 1e9)
		if math.Abs(r.InBps-want) > want*1e-4 || math.Abs(r.InUtilization-r.InBps/1e9) > 1e-12 {
			t.Fatalf("ifIndex %d in_bps %g, want %g", i, r.InBps, want)
		}
		if r.DeviceIp == nil {
			t.Fatalf("ifIndex %d: no device IP", i)
		}
	}
}

func TestPollFallsBackTo32BitCountersAndCorrectsTheirWrap(t *testing.T) {
	sc := defaultSimConfig("old-switch")
	sc.HC = false
	sc.Interfaces = 4
	sc.Uptime = 0
	sc.Base32 = 1<<32 - 200_000 // wraps within 200 ms at these rates
	sc.OctetRate = 1_000_000
	a := startSim(t, sc)
	c, pub := newTestComponent(t, oneTargetConfig(simTarget(a)))

	first := byIndex(pollOnce(t, c, pub, "old-switch"))
	time.Sleep(300 * time.Millisecond)
	second := byIndex(pollOnce(t, c, pub, "old-switch"))
	for i := uint32(1); i <= 4; i++ {
		p, r := first[i], second[i]
		if r.HcCounters {
			t.Fatalf("ifIndex %d claims HC counters on an agent without them", i)
		}
		if !r.RateValid {
			t.Fatalf("ifIndex %d: rate not valid: reset=%v over=%v", i, r.CounterReset, r.OverSpeed)
		}
		if r.InOctets < p.InOctets {
			if !r.CounterWrap {
				t.Fatalf("ifIndex %d: counter went %d -> %d without a wrap flag", i, p.InOctets, r.InOctets)
			}
			if want := r.InOctets + 1<<32 - p.InOctets; r.DeltaInOctets != want {
				t.Fatalf("ifIndex %d: wrapped delta %d, want %d", i, r.DeltaInOctets, want)
			}
		}
	}
	wrapped := false
	for _, r := range second {
		wrapped = wrapped || r.CounterWrap
	}
	if !wrapped {
		t.Fatal("no interface wrapped: the test did not exercise the wrap")
	}
	c.mu.Lock()
	mode := c.targets["old-switch"].mode
	c.mu.Unlock()
	if mode != modeLegacy {
		t.Fatalf("target mode %d, want legacy (32-bit columns only from now on)", mode)
	}
}

func TestPollWalksWithGetNextWhenTheAgentRefusesGetBulk(t *testing.T) {
	sc := defaultSimConfig("v1-era")
	sc.V1Only = true
	sc.Interfaces = 5
	a := startSim(t, sc)
	c, pub := newTestComponent(t, oneTargetConfig(simTarget(a)))
	for range 2 {
		if recs := pollOnce(t, c, pub, "v1-era"); len(recs) != 5 {
			t.Fatalf("%d records, want 5", len(recs))
		}
	}
	if n := a.bulkRequests.Load(); n != 1 {
		t.Fatalf("%d GETBULK requests, want 1 (then GETNEXT only)", n)
	}
}

func TestPollSpeaksSNMPv1WithGetNextOnly(t *testing.T) {
	sc := defaultSimConfig("v1")
	sc.HC = false // SNMPv1 cannot carry Counter64
	sc.Interfaces = 3
	a := startSim(t, sc)
	tg := simTarget(a)
	tg.Version = "1"
	c, pub := newTestComponent(t, oneTargetConfig(tg))
	pollOnce(t, c, pub, "v1")
	recs := pollOnce(t, c, pub, "v1")
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for _, r := range recs {
		if !r.RateValid || r.HcCounters || r.IfName == "" {
			t.Fatalf("ifIndex %d: valid=%v hc=%v name=%q", r.IfIndex, r.RateValid, r.HcCounters, r.IfName)
		}
	}
	if n := a.bulkRequests.Load(); n != 0 {
		t.Fatalf("%d GETBULK requests to an SNMPv1 target", n)
	}
}

func TestPollResetsBaselineOnRebootAndDiscontinuity(t *testing.T) {
	sc := defaultSimConfig("flaky")
	sc.Interfaces = 2
	a := startSim(t, sc)
	c, pub := newTestComponent(t, oneTargetConfig(simTarget(a)))
	pollOnce(t, c, pub, "flaky")
	time.Sleep(20 * time.Millisecond)
	a.reboot()
	for _, r := range pollOnce(t, c, pub, "flaky") {
		if r.RateValid || !r.CounterReset || r.DeltaInOctets != 0 {
			t.Fatalf("after reboot ifIndex %d: valid=%v reset=%v delta=%d", r.IfIndex, r.RateValid, r.CounterReset, r.DeltaInOctets)
		}
	}
	for _, r := range pollOnce(t, c, pub, "flaky") {
		if !r.RateValid || r.CounterReset {
			t.Fatalf("poll after the reboot ifIndex %d: valid=%v reset=%v", r.IfIndex, r.RateValid, r.CounterReset)
		}
	}
	a.setDiscontinuity(1234)
	for _, r := range pollOnce(t, c, pub, "flaky") {
		if r.RateValid || !r.CounterReset {
			t.Fatalf("after discontinuity ifIndex %d: valid=%v reset=%v", r.IfIndex, r.RateValid, r.CounterReset)
		}
	}
}

func TestPollFailsOnWrongCommunityWithoutLeakingIt(t *testing.T) {
	a := startSim(t, defaultSimConfig("locked"))
	tg := simTarget(a)
	tg.Community = "s3cret-community"
	zero := 0
	tg.Retries = &zero
	tg.Timeout = 200 * time.Millisecond
	c, _ := newTestComponent(t, oneTargetConfig(tg))
	c.apply()
	res := c.poll(t.Context(), c.targets["locked"])
	if res.err == nil || !res.timedOut {
		t.Fatalf("poll with a wrong community: err=%v timedOut=%v, want a timeout", res.err, res.timedOut)
	}
	if got := res.err.Error(); strings.Contains(got, "s3cret") {
		t.Fatalf("error leaks the community: %s", got)
	}
}

func TestAV2cAgentThatFailsAGetOfAnUnknownObjectStillGivesItsSystemGroup(t *testing.T) {
	// The engine ID asked beside sysUpTime and sysName must not cost an
	// agent that answers noSuchName for the whole GET its uptime (reboot
	// detection) and name.
	sc := defaultSimConfig("strict")
	sc.StrictGet = true
	sc.Interfaces = 2
	a := startSim(t, sc)
	c, pub := newTestComponent(t, oneTargetConfig(simTarget(a)))
	pollOnce(t, c, pub, "strict")
	time.Sleep(20 * time.Millisecond)
	for _, r := range pollOnce(t, c, pub, "strict") {
		if r.SysName != "strict" || r.SysUptimeCs == 0 || r.SnmpEngineId != "" || !r.RateValid {
			t.Fatalf("ifIndex %d: sysName %q uptime %d engine ID %q valid=%v", r.IfIndex, r.SysName, r.SysUptimeCs, r.SnmpEngineId, r.RateValid)
		}
	}
}
