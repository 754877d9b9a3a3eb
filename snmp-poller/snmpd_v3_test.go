package snmppoller

import (
	"strings"
	"testing"
	"time"
)

func TestPollsSnmpdWithEverySNMPv3SecurityLevelAndProtocolFamily(t *testing.T) {
	s := startSnmpd(t)
	for _, u := range snmpdUsers {
		t.Run(u.V3.User, func(t *testing.T) {
			tg := s.v3Target(u.V3.User, u)
			c, pub := newTestComponent(t, oneTargetConfig(tg))
			for poll := range 2 { // the second poll reuses the discovered engine and keys
				recs := pollOnce(t, c, pub, tg.Name)
				if len(recs) == 0 {
					t.Fatalf("poll %d: no interfaces", poll)
				}
				lo := findInterface(t, recs, "lo")
				if lo.SysName == "" || lo.SysUptimeCs == 0 || !lo.HcCounters {
					t.Fatalf("poll %d: lo record sysName=%q uptime=%d hc=%v", poll, lo.SysName, lo.SysUptimeCs, lo.HcCounters)
				}
				// net-snmp says lo runs at 10 Mbit/s, which busy loopback
				// traffic exceeds: over_speed is then the right answer.
				if poll == 1 && (lo.CounterReset || !lo.RateValid && !lo.OverSpeed || lo.PrevTimeNs == 0) {
					t.Fatalf("second poll: no rate (valid=%v reset=%v over=%v)", lo.RateValid, lo.CounterReset, lo.OverSpeed)
				}
			}
		})
	}
}

func TestPollFailsOnAWrongSNMPv3PasswordWithoutLeakingIt(t *testing.T) {
	s := startSnmpd(t)
	u := snmpdUsers[0]
	u.V3.AuthPassword = "not-the-password-42"
	tg := s.v3Target("wrong-key", u)
	zero := 0
	tg.Retries = &zero
	tg.Timeout = 500 * time.Millisecond
	c, _ := newTestComponent(t, oneTargetConfig(tg))
	c.apply()
	res := c.poll(t.Context(), c.targets["wrong-key"])
	if res.err == nil {
		t.Fatal("poll with a wrong auth password succeeded")
	}
	if strings.Contains(res.err.Error(), "not-the-password") || strings.Contains(res.err.Error(), u.V3.PrivPassword) {
		t.Fatalf("error leaks a password: %v", res.err)
	}
	t.Logf("error: %v (timeout=%v)", res.err, res.timedOut)
}

func TestRecordsCarryTheAgentsEngineIDOverV2cAndV3(t *testing.T) {
	s := startSnmpd(t)
	ids := map[string]string{}
	for _, tg := range []Target{s.v2cTarget("agent-v2c"), s.v3Target("agent-v3", snmpdUsers[0])} {
		c, pub := newTestComponent(t, oneTargetConfig(tg))
		lo := findInterface(t, pollOnce(t, c, pub, tg.Name), "lo")
		if lo.Device != tg.Name || len(lo.SnmpEngineId) < 10 {
			t.Fatalf("%s: device %q engine ID %q, want the target's name and a hex engine ID", tg.Name, lo.Device, lo.SnmpEngineId)
		}
		ids[tg.Version] = lo.SnmpEngineId
	}
	if ids["2c"] != ids["3"] {
		t.Fatalf("one agent, two engine IDs: v2c %s, v3 %s", ids["2c"], ids["3"])
	}
}
