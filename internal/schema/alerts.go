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
