// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// netstrata NPM programs: per-TCP-socket bytes, RTT, jitter, retransmits
// and lifecycle, at a cost paid per connection and per collection, never
// per packet.
//
//  - on_state (tp_btf/inet_sock_set_state) sees every TCP state change:
//    it records who opened a socket and when, the connect latency, and at
//    close it sends the socket's final counters through a ring buffer.
//  - A walk, run by the agent every sample interval, writes one
//    sock_record per live TCP socket, read from tcp_sock. Two programs do
//    it, and the agent runs the one the kernel accepts (its "strategy"):
//    dump_socks (iter/bpf_sk_storage_map) visits every tracked socket of
//    every network namespace at once; dump_tcp (iter/tcp) visits the
//    sockets of the namespace the agent opened it in, so the agent opens
//    it once per namespace. Some kernels refuse iterators over maps.
//  - find_owners (iter/task_file) is run by the agent when it sees sockets
//    whose owner it does not know (opened before the agent started, or
//    accepted from a listener the agent did not see open); it notes the
//    process that holds each socket's file, by socket inode, and the walks
//    take the owner from there.
//
// What the hooks learn about a socket lives in socket-local storage: it
// is freed with the socket, so it cannot leak, and needs no key. Records
// carry the socket cookie (unique for the kernel's lifetime, so across
// network namespaces) and the namespace inode.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "npm.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_meta);
} socks SEC(".maps");

// Owners of listening sockets, so that a connection accepted in softirq
// context inherits the process that called listen().
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct listen_key);
	__type(value, struct owner);
} listeners SEC(".maps");

// Owners of socket files by socket inode, from find_owners. The socket
// pointer a task_file iterator reaches is untrusted on recent kernels, so
// it cannot reach socket storage itself: the walks look owners up here.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct owner);
} file_owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NPM_COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

// Pending close events that wake the reader; set by the loader.
const volatile __u64 wake_bytes = 1 << 20;

// Forces bpf2go to emit the Go types of what user space decodes.
const struct sock_record *unused_sock_record __attribute__((unused));

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += 1;
}

static __always_inline __u32 netns_of(const struct sock_common *skc)
{
	return BPF_CORE_READ(skc, skc_net.net, ns.inum);
}

static __always_inline __u64 cgroup_of(const struct sock *sk)
{
	if (!bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		return 0;
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline int is_tcp(const struct sock *sk)
{
	// A plain field since 5.6 (u16, then u8): the agent needs 5.11+.
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return proto == IPPROTO_TCP && (family == AF_INET || family == AF_INET6);
}

static __always_inline void current_owner(struct owner *o)
{
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(&o->comm, sizeof(o->comm));
}

// fill copies the addresses and the tcp_sock counters of sk into out.
static __always_inline void fill(struct sock_record *out, const struct sock_common *skc,
				 const struct tcp_sock *tp)
{
	out->netns = netns_of(skc);
	out->family = BPF_CORE_READ(skc, skc_family);
	out->state = BPF_CORE_READ(skc, skc_state);
	// inet_sport, not skc_num: closing a socket releases its port and
	// zeroes skc_num before the CLOSE state change is traced.
	out->sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)skc, inet_sport));
	out->dport = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	if (out->family == AF_INET) {
		__u32 s = BPF_CORE_READ(skc, skc_rcv_saddr);
		__u32 d = BPF_CORE_READ(skc, skc_daddr);
		__builtin_memcpy(out->saddr, &s, 4);
		__builtin_memcpy(out->daddr, &d, 4);
	} else {
		BPF_CORE_READ_INTO(&out->saddr, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&out->daddr, skc, skc_v6_daddr.in6_u.u6_addr8);
	}
	out->bytes_acked = BPF_CORE_READ(tp, bytes_acked);
	out->bytes_received = BPF_CORE_READ(tp, bytes_received);
	out->bytes_sent = BPF_CORE_READ(tp, bytes_sent);
	out->segs_in = BPF_CORE_READ(tp, segs_in);
	out->segs_out = BPF_CORE_READ(tp, segs_out);
	out->total_retrans = BPF_CORE_READ(tp, total_retrans);
	out->srtt_us8 = BPF_CORE_READ(tp, srtt_us);
	out->mdev_us4 = BPF_CORE_READ(tp, mdev_us);
	out->snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
	// TCP counts SYN and FIN in sequence space: tell user space when the
	// byte counters include a FIN so that it reports payload only.
	__u8 shut = BPF_CORE_READ((const struct sock *)tp, sk_shutdown);
	out->fin_in = (shut & NPM_RCV_SHUTDOWN) != 0;
	out->fin_out = (shut & NPM_SEND_SHUTDOWN) != 0 &&
		       BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq);
}

static __always_inline void on_listen(const struct sock *sk, int open)
{
	struct listen_key k = {
		.netns = netns_of(&sk->__sk_common),
		.port = BPF_CORE_READ(sk, __sk_common.skc_num),
	};
	if (!open) {
		bpf_map_delete_elem(&listeners, &k);
		return;
	}
	struct owner o = {};
	current_owner(&o); // listen() runs in the owner's context
	bpf_map_update_elem(&listeners, &k, &o, BPF_ANY);
}

// store creates the socket's storage from m, or counts why it could not.
static __always_inline struct sock_meta *store(const struct sock *sk, struct sock_meta *m)
{
	struct sock_meta *s = bpf_sk_storage_get(&socks, (void *)sk, m, BPF_SK_STORAGE_GET_F_CREATE);
	count(s ? NPM_COUNTER_META_INSERTED : NPM_COUNTER_META_FAILED);
	return s;
}

static __always_inline struct sock_meta *lookup(const struct sock *sk)
{
	return bpf_sk_storage_get(&socks, (void *)sk, 0, 0);
}

// sock_ino is the inode of the socket's file (0 before accept()).
static __always_inline __u64 sock_ino(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
}

// adopt fills what the lifecycle hooks could not know of a socket: its
// owner, from find_owners, and whether it was accepted from a listener.
static __always_inline void adopt(struct sock_meta *m, const struct sock *sk)
{
	if (m->owner.pid == 0) {
		__u64 ino = sock_ino(sk);
		struct owner *o = ino ? bpf_map_lookup_elem(&file_owners, &ino) : 0;
		if (o)
			m->owner = *o;
	}
	if (m->direction == NPM_DIR_UNKNOWN) {
		// Accepted sockets share their listener's port. The listener
		// may come later in a find_owners walk: the agent walks twice
		// at start and takes the sockets still unknown for clients.
		struct listen_key k = {
			.netns = netns_of(&sk->__sk_common),
			.port = BPF_CORE_READ(sk, __sk_common.skc_num),
		};
		if (bpf_map_lookup_elem(&listeners, &k))
			m->direction = NPM_DIR_SERVER;
	}
}

// emit_sample writes one socket of a walk to the iterator's output.
static __always_inline void emit_sample(struct seq_file *seq, struct sock *sk, struct tcp_sock *tp,
					const struct sock_meta *m)
{
	struct sock_record out = {};
	out.kind = NPM_KIND_SAMPLE;
	out.cookie = bpf_get_socket_cookie(sk);
	out.ts_ns = bpf_ktime_get_ns();
	fill(&out, &sk->__sk_common, tp);
	if (m) {
		out.meta = *m;
		out.has_meta = 1;
		adopt(&out.meta, sk);
	} else {
		out.meta.cgroup_id = cgroup_of(sk);
	}
	bpf_seq_write(seq, &out, sizeof(out));
}

static __always_inline int walked(__u8 state)
{
	return state != TCP_LISTEN && state != TCP_CLOSE;
}

static __always_inline void on_open(const struct sock *sk, int newstate)
{
	struct sock_meta m = {};
	m.open_ns = bpf_ktime_get_ns();
	m.cgroup_id = cgroup_of(sk);
	if (newstate == TCP_SYN_SENT) {
		// connect() runs in the owner's context.
		m.direction = NPM_DIR_CLIENT;
		current_owner(&m.owner);
	} else {
		// A child created from a listener in softirq: current is
		// whoever the CPU interrupted, so take the listener's owner.
		m.direction = NPM_DIR_SERVER;
		struct listen_key k = {
			.netns = netns_of(&sk->__sk_common),
			.port = BPF_CORE_READ(sk, __sk_common.skc_num),
		};
		struct owner *o = bpf_map_lookup_elem(&listeners, &k);
		if (o)
			m.owner = *o;
	}
	store(sk, &m);
}

static __always_inline void on_established(const struct sock *sk, int oldstate)
{
	struct sock_meta *m = lookup(sk);
	if (!m) {
		// Opened before the agent started, or evicted: the owner is
		// found later by find_owners.
		struct sock_meta n = {};
		n.established_ns = bpf_ktime_get_ns();
		n.cgroup_id = cgroup_of(sk);
		n.direction = oldstate == TCP_SYN_SENT ? NPM_DIR_CLIENT : NPM_DIR_SERVER;
		store(sk, &n);
		return;
	}
	m->established_ns = bpf_ktime_get_ns();
}

static __always_inline void on_close(const struct sock *sk, __u64 cookie, int oldstate)
{
	struct sock_meta *m = lookup(sk);
	struct sock_record *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(NPM_COUNTER_RINGBUF_FULL);
	} else {
		__builtin_memset(e, 0, sizeof(*e));
		e->kind = NPM_KIND_CLOSE;
		e->cookie = cookie;
		e->ts_ns = bpf_ktime_get_ns();
		fill(e, &sk->__sk_common, (const struct tcp_sock *)sk);
		e->state = TCP_CLOSE;
		e->old_state = oldstate;
		if (m) {
			e->meta = *m;
			e->has_meta = 1;
		} else {
			e->meta.cgroup_id = cgroup_of(sk);
		}
		// Waking the reader per close costs more than the rest of
		// the program: wake it only when the ring fills up; the agent
		// flushes the ring before each publication.
		__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes ?
				      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
		bpf_ringbuf_submit(e, flags);
	}
	// Freed now rather than with the socket: a closed socket is no
	// longer iterated.
	if (m && bpf_sk_storage_delete(&socks, (void *)sk) == 0)
		count(NPM_COUNTER_META_DELETED);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_state, const struct sock *sk, const int oldstate, const int newstate)
{
	// Most changes (FIN_WAIT*, CLOSE_WAIT, LAST_ACK, ...) are of no
	// interest: leave before touching the socket.
	switch (newstate) {
	case TCP_LISTEN:
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
	case TCP_CLOSE:
		break;
	default:
		return 0;
	}
	if (!is_tcp(sk))
		return 0;
	// A child socket is cloned from its listener, so its first change
	// is LISTEN -> SYN_RECV: only LISTEN -> CLOSE ends a listener.
	if (newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE)) {
		on_listen(sk, newstate == TCP_LISTEN);
		return 0;
	}
	switch (newstate) {
	case TCP_SYN_SENT:
	case TCP_SYN_RECV:
		on_open(sk, newstate);
		break;
	case TCP_ESTABLISHED:
		on_established(sk, oldstate);
		break;
	case TCP_CLOSE:
		if (oldstate != TCP_CLOSE)
			on_close(sk, bpf_get_socket_cookie((void *)sk), oldstate);
		break;
	}
	return 0;
}

SEC("iter/bpf_sk_storage_map")
int dump_socks(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct sock *sk = ctx->sk;
	struct sock_meta *m = ctx->value;
	if (!sk || !m || !walked(sk->__sk_common.skc_state))
		return 0;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	emit_sample(ctx->meta->seq, sk, tp, m);
	return 0;
}

// dump_tcp walks the TCP sockets of one network namespace (the one the
// agent's thread was in when it opened the iterator). A socket seen for
// the first time gets its storage here, so that its close event carries
// what the walks learnt.
SEC("iter/tcp")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	if (!skc)
		return 0;
	// NULL for request and time-wait sockets, which are not connections
	// with counters of their own.
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	struct sock *sk = (struct sock *)tp;
	if (!walked(BPF_CORE_READ(skc, skc_state)))
		return 0;
	struct sock_meta *m = lookup(sk);
	if (!m) {
		struct sock_meta n = {};
		n.cgroup_id = cgroup_of(sk);
		m = store(sk, &n);
	}
	if (m)
		adopt(m, sk);
	emit_sample(ctx->meta->seq, sk, tp, m);
	return 0;
}

SEC("iter/task_file")
int find_owners(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	if (!task || !file)
		return 0;
	struct socket *sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state == TCP_CLOSE)
		return 0;
	if (!is_tcp(sk)) {
		// An MPTCP listener (Go listens with MPTCP by default) hands
		// plain TCP clients plain TCP sockets: it owns their port.
		__u16 proto = BPF_CORE_READ(sk, sk_protocol);
		if (proto != IPPROTO_MPTCP || state != TCP_LISTEN)
			return 0;
	}
	struct owner o = {};
	o.pid = task->tgid;
	BPF_CORE_READ_STR_INTO(&o.comm, task, comm);
	if (state == TCP_LISTEN) {
		struct listen_key k = {
			.netns = netns_of(&sk->__sk_common),
			.port = BPF_CORE_READ(sk, __sk_common.skc_num),
		};
		bpf_map_update_elem(&listeners, &k, &o, BPF_NOEXIST);
		return 0;
	}
	__u64 ino = BPF_CORE_READ(file, f_inode, i_ino);
	bpf_map_update_elem(&file_owners, &ino, &o, BPF_NOEXIST);
	return 0;
}
