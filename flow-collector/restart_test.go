package flowcollector

import (
	"bufio"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHelperCollectorProcess is not a test: TestTemplatesSurviveKill runs
// the test binary as a collector process through it, to kill it.
func TestHelperCollectorProcess(t *testing.T) {
	file := os.Getenv("FLOWCOLLECTOR_HELPER_TEMPLATES")
	if file == "" {
		t.Skip("helper process for TestTemplatesSurviveKill")
	}
	cfg := testConfig(t)
	cfg.TemplatesFile = file
	c, _, _ := startCollector(t, cfg)
	fmt.Printf("LISTENING %s\n", c.Addrs(kindNetFlow)[0])
	select {} // until killed
}

// TestTemplatesSurviveKill kills a collector (SIGKILL, no graceful stop)
// after it received an exporter's templates and before the data; the
// next collector decodes the first data datagram at once.
func TestTemplatesSurviveKill(t *testing.T) {
	for _, name := range []string{"softflowd-v9", "pmacct-nfprobe-ipfix"} {
		t.Run(name, func(t *testing.T) {
			datagrams := loadCapture(t, name)
			first := firstWithTemplate(t, datagrams)
			file := t.TempDir() + "/templates.json"

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperCollectorProcess$")
			cmd.Env = append(os.Environ(), "FLOWCOLLECTOR_HELPER_TEMPLATES="+file)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil {
				t.Fatalf("helper: %v", err)
			}
			addr := netip.MustParseAddrPort(strings.TrimSpace(strings.TrimPrefix(line, "LISTENING ")))
			s := newSender(t, addr)
			s.send(t, datagrams[:first+1]...)
			// The collector saves templates shortly after they change.
			deadline := time.Now().Add(30 * time.Second)
			for {
				data, _ := os.ReadFile(file)
				if strings.Contains(string(data), `"kind":"data"`) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("templates were not saved within 30 s")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			cfg := testConfig(t)
			cfg.TemplatesFile = file
			cfg.PendingMaxSets = 0 // nothing may wait for a template
			c, pub, r := startCollector(t, cfg)
			var rest [][]byte
			for _, d := range datagrams[first+1:] {
				if !hasTemplate(d) {
					rest = append(rest, d)
				}
			}
			if len(rest) == 0 {
				t.Fatal("no data-only datagram after the template")
			}
			s = newSender(t, c.Addrs(kindNetFlow)[0])
			s.send(t, rest[0])
			s.sync(t, r, kindNetFlow)
			if len(published(pub)) == 0 {
				t.Fatal("the first data datagram after the restart did not decode")
			}
			s.send(t, rest[1:]...)
			s.sync(t, r, kindNetFlow)
			if n := metricSum(t, r, "netstrata_flow_unknown_template_sets_total", "", ""); n != 0 {
				t.Errorf("%v sets without template after the restart", n)
			}
			ref, refPub := newTestComponent(t, testConfig(t))
			per := decodeEach(ref, refPub, kindNetFlow, datagrams)
			want := 0
			for i, d := range datagrams[first+1:] {
				if !hasTemplate(d) {
					want += len(per[first+1+i])
				}
			}
			if got := len(published(pub)); got != want {
				t.Errorf("%d flows after the restart, want %d", got, want)
			}
		})
	}
}
