package schema

// alerts is the alert history the alerting component writes: one row
// per transition of an alert (it fired, it resolved). The latest row of
// a fingerprint is the alert's state, which a new active instance
// restores so that nothing is notified twice across a restart.
func (d ddl) alerts() string {
	return `CREATE TABLE IF NOT EXISTS alerts (
	time ` + ms + ` CODEC(Delta, ZSTD(1)),
	fingerprint String,
	rule ` + lc + `,
	kind ` + lc + `,
	status Enum8('firing' = 1, 'resolved' = 2),
	starts_at ` + ms + `,
	ends_at ` + ms + `,
	value Float64,
	labels Map(String, String),
	annotations Map(String, String),
	generator_url String,
	instance ` + lc + `
) ENGINE = MergeTree
ORDER BY (time, fingerprint)
` + d.tail(TableAlerts)
}

// alertPending holds the alerts pending inside their rule's `for`: one
// row each time one starts or stops pending (fired or dropped), so that
// the next active instance keeps its pending-since rather than starting
// the `for` over. The latest row of a fingerprint counts.
func (d ddl) alertPending() string {
	return `CREATE TABLE IF NOT EXISTS alert_pending (
	time ` + ms + ` CODEC(Delta, ZSTD(1)),
	fingerprint String,
	rule ` + lc + `,
	kind ` + lc + `,
	active_at ` + ms + `,
	labels Map(String, String),
	pending UInt8
) ENGINE = ReplacingMergeTree(time)
ORDER BY (rule, fingerprint)
` + d.tail(TableAlertPending)
}

// alertDeliveries is the outbox's other half: one row per notification a
// webhook acknowledged, by receiver and transition (fingerprint, status,
// starts_at). A transition of the history without its row was not
// delivered; the next active instance sends it again.
func (d ddl) alertDeliveries() string {
	return `CREATE TABLE IF NOT EXISTS alert_deliveries (
	time ` + ms + ` CODEC(Delta, ZSTD(1)),
	receiver ` + lc + `,
	fingerprint String,
	status Enum8('firing' = 1, 'resolved' = 2),
	starts_at ` + ms + `
) ENGINE = ReplacingMergeTree(time)
ORDER BY (receiver, fingerprint, status, starts_at)
` + d.tail(TableAlertDeliveries)
}
