package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/testenv"
)

// freePort returns a loopback address nothing listens on (tcp or udp).
func freePort(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// metricNames scrapes url until it answers and returns the netstrata_
// metric families it lists.
func metricNames(t *testing.T, url string, done <-chan error) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil && resp.StatusCode == 200 {
			defer resp.Body.Close()
			var names []string
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if f := strings.Fields(sc.Text()); len(f) > 2 && f[0] == "#" && f[1] == "HELP" && strings.HasPrefix(f[2], "netstrata_") {
					names = append(names, f[2])
				}
			}
			return names
		}
		if err == nil {
			resp.Body.Close()
		}
		select {
		case derr := <-done:
			t.Fatalf("the command ended before %s answered: %v", url, derr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEachSourceServesOnlyItsOwnMetrics runs a source alone, as in its
// own pod, and scrapes its /metrics: only its series and its Kafka
// producer's, nothing of another component.
func TestEachSourceServesOnlyItsOwnMetrics(t *testing.T) {
	broker, err := bus.StartEmbedded(bus.EmbeddedConfiguration{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Partitions: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer broker.Stop(context.Background())
	for _, tc := range []struct {
		cmd, own string
	}{
		{"flow-collector", "netstrata_flow_"},
		{"snmp-poller", "netstrata_snmp_"},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.runs = componentsRun(tc.cmd, "")
			cfg.DataDir = t.TempDir()
			if err := cfg.Load("", nil); err != nil {
				t.Fatal(err)
			}
			cfg.Kafka.Brokers = []string{broker.Addr()}
			cfg.FlowCollector.HTTP, cfg.SNMPPoller.HTTP = freePort(t, "tcp"), freePort(t, "tcp")
			cfg.FlowCollector.NetFlowListen = []string{freePort(t, "udp")}
			cfg.FlowCollector.SFlowListen = []string{freePort(t, "udp")}
			cfg.FlowCollector.TemplatesFile = filepath.Join(t.TempDir(), "templates.json")
			http := cfg.FlowCollector.HTTP
			if tc.cmd == "snmp-poller" {
				http = cfg.SNMPPoller.HTTP
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			logs := &testenv.LogBuffer{}
			go func() { done <- runCommand(ctx, tc.cmd, "", cfg, logs) }()
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(logs.String())
				}
			})
			names := metricNames(t, "http://"+http+"/metrics", done)
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("%s: %v", tc.cmd, err)
			}
			own := 0
			for _, n := range names {
				switch {
				case strings.HasPrefix(n, tc.own):
					own++
				case strings.HasPrefix(n, "netstrata_kafka_"):
				default:
					t.Errorf("%s serves %s", tc.cmd, n)
				}
			}
			if own == 0 {
				t.Errorf("%s serves none of its own series: %v", tc.cmd, names)
			}
		})
	}
}
