// Package benchpipeline benchmarks the whole flow path in one process,
// wired the way `netstrata standalone` wires it: datagrams over loopback
// UDP into the flow collector, published to the embedded Kafka, consumed
// by the correlator into the embedded ClickHouse. It holds benchmarks
// only (see freshness_test.go); cmd/ may import every component.
package benchpipeline
