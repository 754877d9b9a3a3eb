package alerting

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/schema"
	"github.com/netstrata/netstrata/internal/schema/schematest"
	"github.com/netstrata/netstrata/internal/store"
)

// hotRule fires on an interface above 90 % over the last minute.
var hotRule = Rule{Name: "Hot", Kind: KindUtilisation, Threshold: 0.9, ResolveThreshold: 0.8, Window: time.Minute,
	Labels: map[string]string{"severity": "warning"}}

// hotInterface polls sw0/eth1 at 95 % every second from a minute ago
// until ten minutes ahead: the rule's condition holds for the whole test.
func hotInterface(t *testing.T, conn driver.Conn) {
	from := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	schematest.InsertIfStats(t, conn, schematest.IfLoad{Devices: 1, Interfaces: 1, From: from, Step: time.Second, Steps: 660,
		SpeedBps: 1e9, Utilisation: 0.95})
}

func handoverConfiguration(t *testing.T, r Rule, hook *webhookSink) Configuration {
	cfg := DefaultConfiguration()
	cfg.Interval, cfg.DefaultRules, cfg.Rules = time.Second, false, []Rule{r}
	cfg.Group = "alerting-" + t.Name()
	cfg.API.URL = ""
	cfg.Webhooks = []string{hook.srv.URL}
	cfg.Delivery.MinBackoff, cfg.Delivery.MaxBackoff = 100*time.Millisecond, 500*time.Millisecond
	return cfg
}

// since is when the replica's alert of rule became pending, if it has one.
func (rp *replica) since(rule string) (time.Time, bool) {
	rp.c.evalMu.Lock()
	defer rp.c.evalMu.Unlock()
	if st := rp.c.states[rule]; st != nil {
		for _, a := range st.active {
			return a.ActiveAt, true
		}
	}
	return time.Time{}, false
}

func queryTimes(t *testing.T, conn driver.Conn, sql string) []time.Time {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v time.Time
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestPendingAlertKeepsItsForAcrossAHandOver makes an alert pending on
// the active one of two replicas (Kafka election), stops that replica
// inside the rule's for, and checks that the other takes the alert over
// with the same pending-since (as saved in alert_pending) — the for is
// neither restarted nor shortened — and fires it once, no sooner than
// for after that time.
func TestPendingAlertKeepsItsForAcrossAHandOver(t *testing.T) {
	hook := newWebhookSink(t)
	conn, st := schematest.Open(t, schema.DefaultOptions())
	kafka := embeddedKafka(t)
	r := hotRule
	r.For = 20 * time.Second
	cfg := handoverConfiguration(t, r, hook)
	a := startReplica(t, "a", cfg, st, kafka)
	b := startReplica(t, "b", cfg, st, kafka)
	waitFor(t, "an active replica", 60*time.Second, func() bool { return a.active() || b.active() })
	first, second := a, b
	if b.active() {
		first, second = b, a
	}
	hotInterface(t, conn)
	waitFor(t, "the pending alert saved", 30*time.Second, func() bool {
		return len(queryTimes(t, conn, "SELECT active_at FROM alert_pending WHERE pending = 1")) == 1
	})
	saved := queryTimes(t, conn, "SELECT active_at FROM alert_pending WHERE pending = 1")[0]
	if since, ok := first.since(r.Name); !ok || !since.Truncate(time.Millisecond).Equal(saved) {
		t.Fatalf("saved pending since %v, the active replica has %v (%v)", saved, since, ok)
	}
	if n := testutil.ToFloat64(first.c.m.transitions.WithLabelValues(r.Name, "firing")); n != 0 {
		t.Fatalf("fired before the hand-over (%v)", n)
	}

	first.stop()
	waitFor(t, "the hand-over", 60*time.Second, second.active)
	waitFor(t, "the alert restored", 30*time.Second, func() bool { _, ok := second.since(r.Name); return ok })
	if since, _ := second.since(r.Name); !since.Equal(saved) {
		t.Errorf("the new active replica's alert is pending since %v, the old one's since %v: for restarted", since, saved)
	}
	waitFor(t, "the firing", 60*time.Second, func() bool { return len(hook.messages()) > 0 })
	time.Sleep(2 * time.Second) // a second firing would show by now
	starts := queryTimes(t, conn, "SELECT starts_at FROM alerts WHERE status = 'firing' AND instance = '"+second.name+"'")
	if len(starts) != 1 || len(hook.messages()) != 1 {
		t.Fatalf("%d firings in the history by %s, %d notifications; want 1 each", len(starts), second.name, len(hook.messages()))
	}
	if starts[0].Sub(saved) < r.For {
		t.Errorf("fired at %v, %v after it became pending: for (%v) shortened", starts[0], starts[0].Sub(saved), r.For)
	}
	if left := queryTimes(t, conn, `SELECT max(time) FROM alert_pending GROUP BY fingerprint HAVING argMax(pending, time) = 1`); len(left) != 0 {
		t.Errorf("alert_pending still says pending after the firing")
	}
}

// childEnv carries a child replica's setup (TestReplicaChild).
const childEnv = "NETSTRATA_ALERTING_CHILD"

type childSetup struct {
	Configuration Configuration
	Store         store.Configuration
	Kafka         bus.Configuration
}

// TestReplicaChild is a replica in a process of its own, run by other
// tests (which kill it); it is skipped otherwise.
func TestReplicaChild(t *testing.T) {
	env := os.Getenv(childEnv)
	if env == "" {
		t.Skip("runs as a child process of the hand-over tests")
	}
	var s childSetup
	if err := json.Unmarshal([]byte(env), &s); err != nil {
		t.Fatal(err)
	}
	c, err := New(testReporter().Component("child"), s.Configuration, Dependencies{Store: s.Store, Kafka: s.Kafka, Instance: "child"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {} // until killed
}

func startChild(t *testing.T, s childSetup) *exec.Cmd {
	t.Helper()
	env, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestReplicaChild$", "-test.timeout", "10m")
	cmd.Env = append(os.Environ(), childEnv+"="+string(env))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// TestWebhookNotificationOfAKilledReplicaIsDeliveredOnce has the active
// replica, a child process, fire an alert while the webhook is down,
// kills it with SIGKILL with the notification still queued, and checks
// that the replica taking over (without firing again) delivers it once
// the webhook is back: exactly one message for the transition's key, and
// its delivery recorded.
func TestWebhookNotificationOfAKilledReplicaIsDeliveredOnce(t *testing.T) {
	hook := newWebhookSink(t)
	hook.down.Store(true)
	conn, st := schematest.Open(t, schema.DefaultOptions())
	kafka := embeddedKafka(t)
	cfg := handoverConfiguration(t, hotRule, hook)
	hotInterface(t, conn)

	child := startChild(t, childSetup{Configuration: cfg, Store: st, Kafka: kafka})
	waitFor(t, "the child's firing and a failed delivery", 90*time.Second, func() bool {
		return len(queryTimes(t, conn, "SELECT time FROM alerts WHERE instance = 'child'")) == 1 && hook.refused.Load() > 0
	})
	b := startReplica(t, "b", cfg, st, kafka)
	time.Sleep(2 * time.Second) // b joined the group, passive
	if b.active() {
		t.Fatal("b active while the child holds the role")
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no draining, no leaving the group
		t.Fatal(err)
	}
	_ = child.Wait()
	waitFor(t, "the take-over after the session timeout", 60*time.Second, b.active)
	failed := func() float64 { return testutil.ToFloat64(b.c.m.failures.WithLabelValues(b.c.receivers[0].name)) }
	waitFor(t, "b's own delivery attempt", 30*time.Second, func() bool { return failed() > 0 })
	hook.down.Store(false)
	waitFor(t, "the delivery", 30*time.Second, func() bool { return len(hook.messages()) > 0 })
	time.Sleep(3 * time.Second) // a duplicate would show by now

	got := hook.messages()
	keys := map[string]int{}
	for _, m := range got {
		keys[m.Key]++
	}
	if len(keys) != 1 || len(got) != 1 {
		t.Fatalf("webhook got %d messages with keys %v, want the one transition once", len(got), keys)
	}
	m := got[0]
	if m.Status != "firing" || m.Alerts[0].Labels["alertname"] != hotRule.Name || m.Key != m.Alerts[0].Fingerprint+"/firing/"+strconv.FormatInt(m.Alerts[0].StartsAt.UnixMilli(), 10) {
		t.Errorf("message %+v", m)
	}
	if n := testutil.ToFloat64(b.c.m.transitions.WithLabelValues(hotRule.Name, "firing")); n != 0 {
		t.Errorf("b fired the alert again (%v): it should have restored it", n)
	}
	waitFor(t, "the delivery recorded", 10*time.Second, func() bool {
		return len(queryTimes(t, conn, "SELECT time FROM alert_deliveries WHERE status = 'firing' AND fingerprint != ''")) == 1
	})
}

// TestReplicaPausedPastItsSessionTimeoutSendsNothingAfterResuming stops
// the active replica, a child process, with SIGSTOP after its alert
// fired; the other replica takes the role over when the group's session
// timeout evicts it and resolves the alert. Resumed with SIGCONT, the old
// replica, which still believes itself active, must notice its pause and
// wait for its election instead of evaluating and sending the resolution
// again: the webhook gets one firing and one resolution, the history one
// of each.
func TestReplicaPausedPastItsSessionTimeoutSendsNothingAfterResuming(t *testing.T) {
	hook := newWebhookSink(t)
	conn, st := schematest.Open(t, schema.DefaultOptions())
	kafka := embeddedKafka(t)
	cfg := handoverConfiguration(t, hotRule, hook)
	hotInterface(t, conn)
	child := startChild(t, childSetup{Configuration: cfg, Store: st, Kafka: kafka})
	waitFor(t, "the child's firing", 90*time.Second, func() bool { return len(hook.messages()) == 1 })
	b := startReplica(t, "b", cfg, st, kafka)
	time.Sleep(2 * time.Second) // b joined the group, passive

	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = child.Process.Signal(syscall.SIGCONT)
		}
	})
	waitFor(t, "the take-over after the session timeout", 60*time.Second, b.active)
	waitFor(t, "the alert restored", 30*time.Second, func() bool { _, ok := b.since(hotRule.Name); return ok })
	if err := conn.Exec(context.Background(), "TRUNCATE TABLE ifstats"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the resolution", 30*time.Second, func() bool { return len(hook.messages()) == 2 })
	if err := child.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed = true
	time.Sleep(15 * time.Second) // the child's next evaluations and sends would show by now

	statuses := map[string]int{}
	for _, m := range hook.messages() {
		statuses[m.Status]++
	}
	if statuses["firing"] != 1 || statuses["resolved"] != 1 {
		t.Errorf("webhook got %v, want one firing and one resolved", statuses)
	}
	rows, err := conn.Query(context.Background(), "SELECT toString(status) || ' by ' || instance FROM alerts ORDER BY time")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var history []string
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		history = append(history, s)
	}
	if len(history) != 2 || history[0] != "firing by child" || history[1] != "resolved by b" {
		t.Errorf("history %v, want firing by child, resolved by b", history)
	}
}

// TestWebhookNewToTheOutboxGetsNoPastTransitions starts a replica with a
// webhook over a history that already holds a transition no webhook
// acknowledged (as after the upgrade to the outbox, or a webhook added
// to the configuration): it is not sent, and the webhook is marked known.
func TestWebhookNewToTheOutboxGetsNoPastTransitions(t *testing.T) {
	hook := newWebhookSink(t)
	conn, st := schematest.Open(t, schema.DefaultOptions())
	past := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
	old := testAlert("w1", "resolved")
	old.Rule, old.StartsAt, old.EndsAt = hotRule.Name, past.Add(-time.Minute), past
	if err := record(context.Background(), conn, "old", past, []*Alert{old}); err != nil {
		t.Fatal(err)
	}
	cfg := handoverConfiguration(t, hotRule, hook)
	cfg.Election = "none"
	rp := startReplica(t, "a", cfg, st, bus.Configuration{})
	waitFor(t, "evaluations", 30*time.Second, func() bool { return testutil.ToFloat64(rp.c.m.evaluations) >= 3 })
	time.Sleep(2 * time.Second) // a re-sent transition would have reached the webhook by now
	if got := hook.messages(); len(got) != 0 || hook.refused.Load() != 0 {
		t.Errorf("the webhook got %d messages of the past", len(got))
	}
	if n := len(queryTimes(t, conn, "SELECT time FROM alert_deliveries WHERE fingerprint = ''")); n != 1 {
		t.Errorf("%d marks of the webhook known, want 1", n)
	}
}
