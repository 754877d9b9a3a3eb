package alerting

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeExplainer answers investigations from a table (logic test only:
// the real API is in cmd/netstrata's alerting test).
type fakeExplainer struct {
	calls int
	spike bool
	err   error
}

func (f *fakeExplainer) explain(context.Context, subject, time.Time, time.Time) (explanation, error) {
	f.calls++
	return explanation{annotations: map[string]string{"verdict": "load growth", "top_ports": ":8081 (100%)"}, spike: f.spike}, f.err
}

func testComponent(t *testing.T, ex explainer, maxVerdicts int) *Component {
	m, err := newMetrics(testReporter())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfiguration()
	cfg.MaxVerdicts, cfg.ConsoleURL = maxVerdicts, "https://console.example"
	return &Component{cfg: cfg, m: m, explain: ex}
}

func dueAlert(node string) *Alert {
	return &Alert{Labels: map[string]string{"node": node}, Annotations: map[string]string{}, subject: subject{Node: node}}
}

func TestFiringAlertsAskForAtMostMaxVerdictsInvestigations(t *testing.T) {
	fake := &fakeExplainer{spike: true}
	c := testComponent(t, fake, 1)
	r := Rule{Name: "Spike", Kind: KindTrafficSpike, Subject: SubjectNode, Threshold: 3}.withDefaults()
	budget := c.cfg.MaxVerdicts
	now := time.Now()
	a, b := dueAlert("w1"), dueAlert("w2")
	if !c.fire(context.Background(), r, a, now, &budget) || !c.fire(context.Background(), r, b, now, &budget) {
		t.Fatal("not fired")
	}
	if fake.calls != 1 || a.Annotations["top_ports"] != ":8081 (100%)" || !strings.HasPrefix(b.Annotations["verdict"], "not asked") {
		t.Errorf("calls %d, annotations %v / %v", fake.calls, a.Annotations, b.Annotations)
	}
	if !strings.HasPrefix(a.GeneratorURL, "https://console.example/?") || !strings.Contains(a.GeneratorURL, "kind=node") || a.StartsAt != now {
		t.Errorf("generatorURL %q, startsAt %v", a.GeneratorURL, a.StartsAt)
	}
}

func TestSpikeTheInvestigationDoesNotConfirmStaysPending(t *testing.T) {
	c := testComponent(t, &fakeExplainer{spike: false}, 5)
	r := Rule{Name: "Spike", Kind: KindTrafficSpike, Subject: SubjectNode, Threshold: 3}.withDefaults()
	budget := 5
	a := dueAlert("w1")
	if c.fire(context.Background(), r, a, time.Now(), &budget) || !a.StartsAt.IsZero() {
		t.Fatal("an unconfirmed spike fired")
	}
	// Other kinds fire whatever the investigation found; an API that does
	// not answer leaves the alert without a verdict, not unsent.
	util := Rule{Name: "Util", Kind: KindUtilisation, Threshold: 0.9}.withDefaults()
	if !c.fire(context.Background(), util, dueAlert("w1"), time.Now(), &budget) {
		t.Fatal("utilisation alert held back")
	}
	c = testComponent(t, &fakeExplainer{err: errors.New("connection refused")}, 5)
	b := dueAlert("w2")
	if !c.fire(context.Background(), r, b, time.Now(), &budget) || !strings.HasPrefix(b.Annotations["verdict"], "unavailable: connection refused") {
		t.Fatalf("fired without API: verdict %q", b.Annotations["verdict"])
	}
}
