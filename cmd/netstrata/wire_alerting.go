package main

import (
	"github.com/netstrata/netstrata/alerting"
	"github.com/netstrata/netstrata/internal/telemetry"
)

func init() {
	commands["alerting"] = command{
		help: `Evaluates the alerting rules (alerting.rules, plus the shipped ones unless
alerting.default_rules is false) every alerting.interval over ClickHouse:
interface utilisation, traffic spikes of nodes and interfaces, session
health of services (RTT p95, jitter, retransmits), flow/SNMP disagreement,
silent exporters, SNMP devices and agents. A firing alert carries the
investigation's verdict (alerting.api) and a link to the console, and goes
to Alertmanager (alerting.alertmanagers, v2 API) and webhooks
(alerting.webhooks, JSON with a Slack-compatible text), retried with
back-off. Run several: one is active (a Kafka consumer group,
alerting.group); the alert history in ClickHouse carries the state across
restarts, so nothing is notified twice.`,
		components: func(cfg *Config) []component {
			return []component{{name: "alerting", http: cfg.Alerting.HTTP,
				build: func(e *env, r *telemetry.Reporter) (service, error) {
					return alerting.New(r, cfg.Alerting.Configuration, alerting.Dependencies{Store: cfg.correlatorStore(), Kafka: cfg.Kafka})
				}}}
		},
	}
}
