package npmagent

import (
	"github.com/netstrata/netstrata/bpf"
)

// Names of the strategies, as npm_agent.strategy takes them.
const (
	StrategyAuto = "auto"
	// StrategySkStorageIter walks every tracked socket of every network
	// namespace with one iterator over the socket-storage map.
	StrategySkStorageIter = "sk_storage_iter"
	// StrategyTCPIter walks the TCP sockets of each network namespace
	// with iter/tcp, opened once per namespace from a thread that joined
	// it: for kernels that refuse iterators over maps.
	StrategyTCPIter = "tcp_iter"
)

// strategy is one way of reading every socket of the node. All strategies
// publish the same records: the same lifecycle hook, the same sock_record
// from the kernel, the same tracker.
type strategy struct {
	name string
	// walk is the program that writes one record per live socket.
	walk string
	// needs are the programs it cannot run without; find_owners is
	// optional for every strategy (owners of sockets from before the
	// agent), and so is dump_tcp for adopting them under sk_storage_iter.
	needs []string
	// perNetns: the walk is opened once per network namespace, which
	// needs CAP_SYS_ADMIN (setns) and the host's /proc.
	perNetns bool
	summary  string
}

// strategies in order of preference: the first the kernel accepts runs.
var strategies = []strategy{
	{name: StrategySkStorageIter, walk: bpf.ProgDumpSocks, needs: []string{bpf.ProgOnState, bpf.ProgDumpSocks},
		summary: "one iterator over the socket-storage map: every tracked socket of every namespace"},
	{name: StrategyTCPIter, walk: bpf.ProgDumpTCP, needs: []string{bpf.ProgOnState, bpf.ProgDumpTCP}, perNetns: true,
		summary: "iter/tcp opened in each network namespace found under /proc and /run/netns"},
}

func strategyByName(name string) (strategy, bool) {
	for _, s := range strategies {
		if s.name == name {
			return s, true
		}
	}
	return strategy{}, false
}

// strategyNames lists the values npm_agent.strategy accepts.
func strategyNames() []string {
	out := []string{StrategyAuto}
	for _, s := range strategies {
		out = append(out, s.name)
	}
	return out
}
