package bpf

import (
	"github.com/cilium/ebpf"
)

// Values of the enums in npm.h (BTF carries no unused enums, so bpf2go
// cannot generate them).
const (
	DirUnknown = 0
	DirClient  = 1
	DirServer  = 2

	KindSample = 1
	KindClose  = 2

	CounterMetaInserted = 0
	CounterMetaDeleted  = 1
	CounterRingbufFull  = 2
	CounterMetaFailed   = 3
	CounterMax          = 4
)

// Program names, for logs and for loading one program at a time.
const (
	ProgOnState    = NpmProgOnState
	ProgDumpSocks  = NpmProgDumpSocks
	ProgDumpTCP    = NpmProgDumpTcp
	ProgFindOwners = NpmProgFindOwners
)

// Hooks names the kernel hook (section) of each program, as operators and
// kernel documentation name them.
var Hooks = map[string]string{
	ProgOnState:    "tp_btf/inet_sock_set_state",
	ProgDumpSocks:  "iter/bpf_sk_storage_map",
	ProgDumpTCP:    "iter/tcp",
	ProgFindOwners: "iter/task_file",
}

// Programs lists the programs in the order the agent probes them.
var Programs = []string{ProgOnState, ProgDumpSocks, ProgDumpTCP, ProgFindOwners}

// LoadSpec returns the compiled programs and maps, to be sized and loaded
// by the agent.
func LoadSpec() (*ebpf.CollectionSpec, error) { return LoadNpm() }
