package bpf

import (
	"os"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"

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

func TestProgramsPassTheVerifier(t *testing.T) {
	testenv.Root(t)
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		testenv.Skip(t, "kernel has no BTF")
	}
	spec, err := LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	var objs NpmObjects
	if err := spec.LoadAndAssign(&objs, &ebpf.CollectionOptions{Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelBranch}}); err != nil {
		t.Fatalf("load: %+v", err)
	}
	defer objs.Close()
}
