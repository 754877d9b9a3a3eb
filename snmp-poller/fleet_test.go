package snmppoller

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// blackhole is a UDP endpoint that reads requests and never answers.
func blackhole(t *testing.T) uint16 {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go drain(c)
	return uint16(c.LocalAddr().(*net.UDPAddr).Port)
}

// slowProxy forwards requests to upstream at once and hands each answer
// back after delay: a device that answers, slowly.
func slowProxy(t *testing.T, upstream uint16, delay time.Duration) uint16 {
	t.Helper()
	front, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(upstream)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { front.Close(); back.Close() })
	var client atomic.Pointer[net.UDPAddr] // one poll in flight per target: one client at a time
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := front.ReadFromUDP(buf)
			if err != nil {
				return
			}
			client.Store(from)
			_, _ = back.Write(buf[:n])
		}
	}()
	go func() {
		buf := make([]byte, 65536)
		for {
			n, err := back.Read(buf)
			if err != nil {
				return
			}
			msg, to := append([]byte(nil), buf[:n]...), client.Load()
			time.AfterFunc(delay, func() { _, _ = front.WriteToUDP(msg, to) })
		}
	}()
	return uint16(front.LocalAddr().(*net.UDPAddr).Port)
}

func TestDeadAndSlowDevicesDoNotHoldBackTheRestOfTheFleet(t *testing.T) {
	s := startSnmpd(t)
	cfg := DefaultConfiguration()
	cfg.Workers = 2 // scarce on purpose: a dead device must not starve the rest
	cfg.Defaults.Interval = time.Second
	cfg.Defaults.Timeout = time.Second
	var good []string
	for i := range 4 {
		tg := s.v2cTarget(fmt.Sprintf("good-%d", i))
		good = append(good, tg.Name)
		cfg.Targets = append(cfg.Targets, tg)
	}
	one := 1
	dead := Target{Name: "dead", Address: "127.0.0.1", Port: blackhole(t), Community: s.community, Timeout: 300 * time.Millisecond, Retries: &one}
	zero := 0
	slow := s.v2cTarget("slow")
	slow.Port = slowProxy(t, s.port, 150*time.Millisecond)
	slow.Retries = &zero
	cfg.Targets = append(cfg.Targets, dead, slow)

	c, pub := newTestComponent(t, cfg)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	minGood := func() float64 {
		m := -1.0
		for _, name := range good {
			if v := metricValue(t, c, "polls", name); m < 0 || v < m {
				m = v
			}
		}
		return m
	}
	waitFor(t, 60*time.Second, "6 polls of every good target", func() bool { return minGood() >= 6 })
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	maxGood := 0.0
	for _, name := range good {
		polls, failures := metricValue(t, c, "polls", name), metricValue(t, c, "failures", name)
		if failures != 0 {
			t.Errorf("%s: %v failures", name, failures)
		}
		if pub.Count(name) == 0 {
			t.Errorf("%s: no records published", name)
		}
		maxGood = max(maxGood, polls)
	}
	// On schedule: every good target got the same number of slots, give or
	// take the one in progress when we stopped and the random first slot.
	if maxGood-minGood() > 2 {
		t.Errorf("good targets polled unevenly: %v to %v polls", minGood(), maxGood)
	}
	deadPolls, deadTimeouts := metricValue(t, c, "polls", "dead"), metricValue(t, c, "timeouts", "dead")
	if deadTimeouts < 1 || deadTimeouts != deadPolls {
		t.Errorf("dead: %v polls, %v timeouts; want every poll to time out", deadPolls, deadTimeouts)
	}
	if deadPolls >= minGood() {
		t.Errorf("dead: %v polls, as many as a good target (%v): no backoff", deadPolls, minGood())
	}
	slowOK := metricValue(t, c, "polls", "slow") - metricValue(t, c, "failures", "slow")
	if slowOK < 2 || pub.Count("slow") == 0 {
		t.Errorf("slow: %v successful polls, %d records; a slow device must still be read", slowOK, pub.Count("slow"))
	}
	t.Logf("good %v..%v polls, dead %v polls (%v timeouts), slow %v ok", minGood(), maxGood, deadPolls, deadTimeouts, slowOK)
}
