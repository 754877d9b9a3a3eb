// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// Types shared by the NPM programs and (through bpf2go) the Go agent.
// Every struct is laid out with explicit padding so that the Go mirror
// bpf2go generates has the same size and offsets.
#ifndef NETSTRATA_NPM_H
#define NETSTRATA_NPM_H

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define NPM_COMM_LEN 16

// sk_shutdown bits (include/net/sock.h).
#define NPM_RCV_SHUTDOWN 1
#define NPM_SEND_SHUTDOWN 2

enum npm_dir {
	NPM_DIR_UNKNOWN = 0,
	NPM_DIR_CLIENT = 1,
	NPM_DIR_SERVER = 2,
};

enum npm_kind {
	NPM_KIND_SAMPLE = 1, // one socket read by the iterator
	NPM_KIND_CLOSE = 2,  // a socket's last state, at TCP_CLOSE
};

// Indexes of the per-CPU counters map.
enum npm_counter {
	NPM_COUNTER_META_INSERTED = 0,
	NPM_COUNTER_META_DELETED = 1,
	NPM_COUNTER_RINGBUF_FULL = 2,
	NPM_COUNTER_META_FAILED = 3, // socket storage could not be created
	NPM_COUNTER_MAX = 4,
};

// The process that owns a socket.
struct owner {
	__u32 pid;
	char comm[NPM_COMM_LEN];
	__u32 pad;
};

// What the lifecycle hooks learn about a socket, keyed by its cookie.
struct sock_meta {
	__u64 open_ns;        // SYN_SENT or SYN_RECV, CLOCK_MONOTONIC; 0 unknown
	__u64 established_ns; // ESTABLISHED; 0 unknown
	__u64 cgroup_id;      // cgroup v2 id of the socket
	struct owner owner;
	__u8 direction;       // enum npm_dir
	__u8 pad[7];
};

struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 pad;
};

// One socket: a sample from the iterator or its close from the ring buffer.
struct sock_record {
	__u64 cookie;
	__u64 ts_ns; // CLOCK_MONOTONIC
	__u64 bytes_acked;
	__u64 bytes_received;
	__u64 bytes_sent; // includes retransmitted bytes
	struct sock_meta meta;
	__u32 netns;
	__u32 segs_in;
	__u32 segs_out;
	__u32 total_retrans;
	__u32 srtt_us8; // tcp_sock.srtt_us: smoothed RTT << 3
	__u32 mdev_us4; // tcp_sock.mdev_us: mean deviation << 2
	__u32 snd_cwnd;
	__u32 kind; // enum npm_kind
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; // host order
	__u16 dport; // host order
	__u16 family;
	__u8 state;
	__u8 old_state;
	__u8 has_meta;
	__u8 fin_in;  // the peer's FIN was received: bytes_received counts it
	__u8 fin_out; // our FIN was acked: bytes_acked counts it
	__u8 pad[5];
};

#endif
