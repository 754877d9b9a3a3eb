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
	ProgFindOwners = NpmProgFindOwners
)

// LoadSpec returns the compiled programs and maps, to be sized and loaded
// by the agent.
func LoadSpec() (*ebpf.CollectionSpec, error) { return LoadNpm() }
