// Package demo runs netstrata's whole pipeline for real on one machine: a
// lab of network namespaces that look like pods on a worker node, real
// peers (net-snmp's snmpd, softflowd, the kernel's eBPF through the
// agent), a traffic generator with a baseline and a spike, and the
// netstrata processes fed by them. `netstrata demo` (make demo) and the
// end-to-end test of cmd/netstrata share it.
//
// Everything lives in names with a random suffix and addresses of
// 198.18.0.0/15 (RFC 2544's benchmarking range: nothing real is there);
// the host namespace only gains a bridge and veths, no addresses, routes
// or sysctls, and all of it is removed on exit.
package demo
