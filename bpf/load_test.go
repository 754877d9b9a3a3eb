package bpf

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/netstrata/netstrata/internal/testenv"
)

func TestRecordLayoutMatchesC(t *testing.T) {
	// npm.h pads every struct to 8 bytes; a change there must show here.
	if got := unsafe.Sizeof(NpmSockRecord{}); got%8 != 0 {
		t.Fatalf("sock_record is %d bytes, not a multiple of 8", got)
	}
	if got := unsafe.Sizeof(NpmSockMeta{}); got != 56 {
		t.Fatalf("sock_meta is %d bytes, want 56", got)
	}
}

func TestEveryProgramHasAHook(t *testing.T) {
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	if len(Programs) != len(spec.Programs) {
		t.Fatalf("Programs lists %d programs, the object has %d", len(Programs), len(spec.Programs))
	}
	for _, name := range Programs {
		ps := spec.Programs[name]
		if ps == nil {
			t.Fatalf("program %s is not in the object", name)
		}
		if Hooks[name] != ps.SectionName {
			t.Errorf("Hooks[%s] = %q, the object says %q", name, Hooks[name], ps.SectionName)
		}
	}
}

// TestProgramsPassTheVerifier loads each program on its own. A program
// this kernel refuses after verification (EPERM: some kernels refuse
// iterators over maps whatever the privileges) is reported, not failed:
// the agent probes for it and runs another strategy. A verifier rejection
// fails.
func TestProgramsPassTheVerifier(t *testing.T) {
	testenv.Root(t)
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		testenv.Skip(t, "kernel has no BTF")
	}
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	maps, err := ebpf.NewCollection(&ebpf.CollectionSpec{Maps: spec.Maps})
	if err != nil {
		t.Fatalf("create maps: %v", err)
	}
	defer maps.Close()
	loaded := 0
	for _, name := range Programs {
		t.Run(name, func(t *testing.T) {
			one := &ebpf.CollectionSpec{Maps: spec.Maps, Types: spec.Types,
				Programs: map[string]*ebpf.ProgramSpec{name: spec.Programs[name]}}
			coll, err := ebpf.NewCollectionWithOptions(one, ebpf.CollectionOptions{MapReplacements: maps.Maps})
			if errors.Is(err, unix.EPERM) {
				t.Logf("%s (%s): refused by this kernel after verification: %v", name, Hooks[name], err)
				return
			}
			if err != nil {
				t.Fatalf("%s (%s): %+v", name, Hooks[name], err)
			}
			coll.Close()
			loaded++
		})
	}
	if loaded == 0 {
		t.Fatal("this kernel loads none of the programs")
	}
}
