// Package alerting evaluates alerting rules over netstrata's ClickHouse
// data — interface utilisation, traffic spikes, session health, flow/SNMP
// disagreement, silent reporters — with Prometheus-like semantics (for,
// labels, annotations, hysteresis), explains each firing alert with the
// API's investigation, and notifies Alertmanager and webhooks. One
// replica is active at a time; the alert history in ClickHouse carries
// the state across restarts and hand-overs.
package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/netstrata/netstrata/internal/bus"
	"github.com/netstrata/netstrata/internal/store"
	"github.com/netstrata/netstrata/internal/telemetry"
)

// Dependencies is what alerting needs from outside.
type Dependencies struct {
	// Store is ClickHouse, with a user that may write the alert history.
	Store store.Configuration
	// Kafka hosts the election (election: kafka).
	Kafka bus.Configuration
	// Instance names this replica in the history; "" uses the hostname.
	Instance string
}

// Component is the running alerting evaluator.
type Component struct {
	r         *telemetry.Reporter
	cfg       Configuration
	deps      Dependencies
	rules     []Rule
	m         *metrics
	instance  string
	explain   explainer // nil: alerts carry no verdict
	receivers []*receiver
	election  election
	exp       *exporter // nil unless alerting.exporter.enable
	guard     *pauseGuard

	conn    atomic.Pointer[driver.Conn]
	active  atomic.Bool
	evalMu  sync.Mutex            // held by an evaluation and by a loss of the active role
	states  map[string]*ruleState // by rule name; nil until restored after gaining the role
	pending map[string]*Alert     // the pending alerts as last saved to alert_pending, by fingerprint
	resent  time.Time             // last re-send of the firing alerts to Alertmanager
	kick    chan struct{}         // an evaluation now (the role was gained)
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	stopped sync.Once
	now     func() time.Time
}

// New checks the configuration and builds the rules and receivers;
// nothing connects until Start.
func New(r *telemetry.Reporter, cfg Configuration, deps Dependencies) (*Component, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := deps.Store.Validate(); err != nil {
		return nil, fmt.Errorf("alerting: %w", err)
	}
	c := &Component{r: r, cfg: cfg, deps: deps, rules: cfg.EffectiveRules(), instance: deps.Instance,
		now: time.Now, kick: make(chan struct{}, 1)}
	if c.instance == "" {
		c.instance, _ = os.Hostname()
	}
	var err error
	if c.m, err = newMetrics(r); err != nil {
		return nil, fmt.Errorf("alerting: %w", err)
	}
	if cfg.API.URL != "" {
		c.explain = newAPIExplainer(cfg.API)
	}
	if cfg.Exporter.Enable {
		if c.exp, err = newExporter(r, cfg.Exporter); err != nil {
			return nil, fmt.Errorf("alerting: exporter: %w", err)
		}
	}
	hc := &http.Client{Timeout: cfg.Delivery.Timeout}
	byFingerprint := func(a *Alert) string { return a.Fingerprint }
	byTransition := func(a *Alert) string { return a.Fingerprint + "/" + a.Status() }
	for _, u := range cfg.Alertmanagers {
		rc := newReceiver(receiverName("alertmanager", u), alertmanagerSender(hc, u, cfg.Delivery.ResendInterval), 64, byFingerprint, cfg.Delivery, c.m)
		rc.keepAlive = true
		c.receivers = append(c.receivers, rc)
	}
	for _, u := range cfg.Webhooks {
		rc := newReceiver(receiverName("webhook", u), webhookSender(hc, u), 1, byTransition, cfg.Delivery, c.m)
		rc.outbox = outboxID(u)
		rc.delivered = c.delivered(rc.outbox)
		c.receivers = append(c.receivers, rc)
	}
	// A pause of half the group's session timeout may have lost the role;
	// the consumer's heartbeats (every 3 s) tell within the doubt.
	c.guard = newPauseGuard(electionSessionTimeout/2, 8*time.Second, c.paused)
	for _, rc := range c.receivers {
		rc.hold = func() bool { return !c.guard.ok() }
	}
	if cfg.Election == "kafka" {
		if err := deps.Kafka.Validate(); err != nil {
			return nil, fmt.Errorf("alerting: election kafka: %w", err)
		}
		c.election = newKafkaElection(deps.Kafka, cfg.Group, c, r)
	} else {
		c.election = alwaysActive{h: c}
	}
	return c, nil
}

// Rules are the rules evaluated (the shipped ones and the operator's).
func (c *Component) Rules() []Rule { return c.rules }

// Start connects, joins the election and evaluates every interval while
// active; it returns at once.
func (c *Component) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, rc := range c.receivers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			rc.run(ctx, 5*time.Second)
		}()
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.guard.run(ctx)
	}()
	c.r.SetHealth("clickhouse", errors.New("not connected yet"))
	c.r.SetNote("role", "passive: waiting for the election")
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.connect(ctx)
		t := time.NewTicker(c.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-c.kick:
			}
			c.tick(ctx)
		}
	}()
	if err := c.election.Start(ctx); err != nil {
		c.cancel()
		c.wg.Wait()
		return err
	}
	c.r.Log.Info("alerting started", "rules", len(c.rules), "interval", c.cfg.Interval, "election", c.cfg.Election,
		"alertmanagers", len(c.cfg.Alertmanagers), "webhooks", len(c.cfg.Webhooks), "instance", c.instance)
	return nil
}

// Stop turns passive (after the evaluation in progress), delivers what
// is queued for up to 5 s, then hands the active role over: the next
// holder, which sends again what no webhook acknowledged, starts after
// the last delivery of this one.
func (c *Component) Stop() error {
	var err error
	c.stopped.Do(func() {
		c.lose()
		if c.cancel != nil {
			c.cancel()
		}
		c.wg.Wait()
		err = c.election.Stop()
		if conn := c.conn.Swap(nil); conn != nil {
			_ = (*conn).Close()
		}
	})
	return err
}

// connect opens ClickHouse, retrying each interval until it answers and
// holds the alert history.
func (c *Component) connect(ctx context.Context) {
	for ctx.Err() == nil {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		conn, err := store.Open(octx, c.deps.Store)
		if err == nil {
			if err = schemaReady(octx, conn); err != nil {
				conn.Close()
			}
		}
		cancel()
		if err == nil {
			c.conn.Store(&conn)
			c.r.SetHealth("clickhouse", nil)
			return
		}
		if ctx.Err() == nil {
			c.r.SetHealth("clickhouse", err)
		}
		sleep(ctx, min(c.cfg.Interval, 5*time.Second))
	}
}

// gain makes this replica the active one: the next tick restores the
// state from the history, then evaluates.
func (c *Component) gain(context.Context) {
	c.evalMu.Lock()
	defer c.evalMu.Unlock()
	c.states = nil
	c.active.Store(true)
	c.m.leader.Set(1)
	c.r.SetNote("role", "active: evaluates and notifies")
	c.r.Log.Info("active: this replica evaluates and notifies", "instance", c.instance)
	select { // evaluate at once, not an interval later
	case c.kick <- struct{}{}:
	default:
	}
}

// lose makes it passive, once the evaluation in progress is over.
func (c *Component) lose() {
	c.evalMu.Lock()
	defer c.evalMu.Unlock()
	if c.active.Swap(false) {
		c.r.Log.Info("passive: another replica evaluates", "instance", c.instance)
	}
	c.states = nil
	if c.guard.doubted() {
		// Lost after a pause: another replica was active meanwhile and
		// sends what this one still had queued (outbox, re-posting).
		for _, rc := range c.receivers {
			rc.clear()
		}
	}
	c.m.leader.Set(0)
	c.r.SetNote("role", "passive: another replica of group "+c.cfg.Group+" is active, or none yet")
	if c.exp != nil {
		c.exp.clear() // the active replica exports, no other
	}
}

// paused is told by the guard that this process was stopped for a while.
func (c *Component) paused() {
	c.m.pauses.Inc()
	c.r.Log.Warn("this process was paused: evaluations and notifications wait until the election confirms or takes the active role",
		"instance", c.instance)
}

// tick evaluates every rule once if this replica is active.
func (c *Component) tick(ctx context.Context) {
	c.evalMu.Lock()
	defer c.evalMu.Unlock()
	p := c.conn.Load()
	if !c.active.Load() || p == nil {
		return
	}
	conn := *p
	if !c.guard.ok() {
		c.states = nil // restored again once the role is confirmed
		return
	}
	now := c.now().Truncate(time.Millisecond) // as ClickHouse stores it: StartsAt is part of a transition's key
	if c.states == nil {
		if err := c.restore(ctx, conn, now); err != nil {
			c.r.SetHealth("history", err)
			return
		}
	}
	began := time.Now()
	fired, resolved := c.evaluate(ctx, conn, now)
	if !c.guard.ok() { // paused while evaluating: nothing of it is written or sent
		c.states = nil
		return
	}
	c.commit(ctx, conn, now, fired, resolved)
	c.persistPending(ctx, conn, now)
	c.resend(now)
	c.m.evaluations.Inc()
	c.m.evalSeconds.Observe(time.Since(began).Seconds())
}

// evaluate measures every rule and moves its alerts; it returns what
// fired and what resolved.
func (c *Component) evaluate(ctx context.Context, conn driver.Conn, now time.Time) (fired, resolved []*Alert) {
	db := &database{conn: conn, limit: c.cfg.MaxSeriesPerRule + 1, queries: c.m.observeQuery, cache: map[string]any{}}
	verdicts := c.cfg.MaxVerdicts
	for _, r := range c.rules {
		st := c.states[r.Name]
		qctx, cancel := context.WithTimeout(ctx, c.cfg.QueryTimeout)
		ss, err := measurers[r.Kind](qctx, db, r, now)
		cancel()
		if err != nil {
			c.m.queryErrors.WithLabelValues(r.Name).Inc()
			c.m.warn.Warn("rule/"+r.Name, "rule evaluation failed; its alerts keep their state", "rule", r.Name, "error", err)
			continue
		}
		if len(ss) > c.cfg.MaxSeriesPerRule {
			c.m.truncated.WithLabelValues(r.Name).Inc()
			ss = ss[:c.cfg.MaxSeriesPerRule]
		}
		due, res := st.apply(ss, now)
		for _, a := range due {
			if c.fire(ctx, r, a, now, &verdicts) {
				fired = append(fired, a)
			}
		}
		resolved = append(resolved, res...)
		pending := len(st.active) - len(st.firing())
		c.m.active.WithLabelValues(r.Name, "pending").Set(float64(pending))
		c.m.active.WithLabelValues(r.Name, "firing").Set(float64(len(st.active) - pending))
	}
	if c.exp != nil {
		qctx, cancel := context.WithTimeout(ctx, c.cfg.QueryTimeout)
		if err := c.exp.refresh(qctx, db, now); err != nil {
			c.m.warn.Warn("exporter", "exported series not refreshed", "error", err)
		}
		cancel()
	}
	return fired, resolved
}

// fire explains a due alert and marks it firing; a traffic spike that
// the investigation does not confirm stays pending.
// verdicts is what is left of this evaluation's investigations.
func (c *Component) fire(ctx context.Context, r Rule, a *Alert, now time.Time, verdicts *int) bool {
	from, to := investigationRange(r, now)
	a.GeneratorURL = consoleLink(c.cfg.ConsoleURL, r, a.subject, from, to)
	if c.explain != nil && !a.subject.zero() && *verdicts <= 0 {
		c.m.verdictErrors.Inc()
		a.Annotations["verdict"] = fmt.Sprintf("not asked: more than %d alerts fired in one evaluation (alerting.max_verdicts)", c.cfg.MaxVerdicts)
	} else if c.explain != nil && !a.subject.zero() {
		*verdicts--
		ex, err := c.explain.explain(ctx, a.subject, from, to)
		switch {
		case err != nil:
			c.m.verdictErrors.Inc()
			c.m.warn.Warn("verdict", "firing without a verdict: the API did not answer", "error", err)
			a.Annotations["verdict"] = "unavailable: " + err.Error()
		case r.Kind == KindTrafficSpike && !ex.spike:
			c.m.unconfirmed.Inc()
			return false
		default:
			for k, v := range ex.annotations {
				a.Annotations[k] = v
			}
		}
	}
	a.Annotations["investigate_url"] = a.GeneratorURL
	a.StartsAt = now
	return true
}

// commit writes the transitions to the history, then queues them for
// every receiver. A history that cannot be written does not hold the
// notifications back: a duplicate after a restart is better than a loss.
func (c *Component) commit(ctx context.Context, conn driver.Conn, now time.Time, fired, resolved []*Alert) {
	all := append(fired, resolved...)
	if len(all) == 0 {
		return
	}
	hctx, cancel := context.WithTimeout(ctx, c.cfg.QueryTimeout)
	err := bus.Retry(hctx, func(ctx context.Context) error { return record(ctx, conn, c.instance, now, all) })
	cancel()
	if err != nil {
		c.m.historyErrors.Add(float64(len(all)))
		c.r.Log.Error("alert history not written", "alerts", len(all), "error", err)
	}
	for _, a := range fired {
		c.m.transitions.WithLabelValues(a.Rule, "firing").Inc()
		c.r.Log.Info("alert firing", "rule", a.Rule, "fingerprint", a.Fingerprint, "labels", a.Labels, "summary", a.Annotations["summary"])
	}
	for _, a := range resolved {
		c.m.transitions.WithLabelValues(a.Rule, "resolved").Inc()
		c.r.Log.Info("alert resolved", "rule", a.Rule, "fingerprint", a.Fingerprint, "labels", a.Labels)
	}
	for _, rc := range c.receivers {
		rc.enqueue(now, all...)
	}
}

// resend re-posts every firing alert to Alertmanager each resend
// interval, so that it does not expire them; Alertmanager deduplicates.
func (c *Component) resend(now time.Time) {
	if now.Sub(c.resent) < c.cfg.Delivery.ResendInterval {
		return
	}
	c.resent = now
	var firing []*Alert
	for _, st := range c.states {
		firing = append(firing, st.firing()...)
	}
	if len(firing) == 0 {
		return
	}
	for _, rc := range c.receivers {
		if rc.keepAlive { // Alertmanager; webhooks get transitions only
			rc.enqueue(now, firing...)
		}
	}
}

// restore rebuilds the rules' state from the history: alerts the last
// active replica notified as firing are firing here, and are not
// notified again; those of rules that no longer exist resolve now.
// Pending alerts keep the time their condition became true. Webhook
// notifications the history holds but no webhook acknowledged are sent
// again (the outbox).
func (c *Component) restore(ctx context.Context, conn driver.Conn, now time.Time) error {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.QueryTimeout)
	defer cancel()
	alerts, err := restore(rctx, conn)
	if err != nil {
		return err
	}
	pending, err := restorePending(rctx, conn)
	if err != nil {
		return err
	}
	redeliver, err := c.undelivered(rctx, conn, now)
	if err != nil {
		return err
	}
	c.states = map[string]*ruleState{}
	for _, r := range c.rules {
		c.states[r.Name] = newRuleState(r)
	}
	var gone []*Alert
	for _, a := range alerts {
		st, ok := c.states[a.Rule]
		if !ok {
			a.EndsAt = now
			gone = append(gone, a)
			continue
		}
		a.LastActive = now
		st.active[a.Fingerprint] = a
	}
	c.pending = map[string]*Alert{}
	for _, a := range pending {
		st, ok := c.states[a.Rule]
		if ok && st.active[a.Fingerprint] == nil {
			st.active[a.Fingerprint] = a
		}
		c.pending[a.Fingerprint] = a // those of removed rules are saved as stopped next
	}
	c.r.SetHealth("history", nil)
	c.r.Log.Info("alert state restored", "firing", len(alerts)-len(gone), "pending", len(pending),
		"resolved_removed_rules", len(gone), "webhook_notifications_resent", redeliver)
	c.commit(ctx, conn, now, nil, gone)
	c.resent = time.Time{} // re-post the restored alerts to Alertmanager at once
	return nil
}
