package npmagent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/netstrata/netstrata/bpf"
)

// kernel is the loaded and attached BPF side of the agent.
type kernel struct {
	maps      bpf.NpmMaps
	onState   *ebpf.Program
	dumpSocks *ebpf.Program
	findOwner *ebpf.Program // nil when the kernel lacks iter/task_file or bpf_sock_from_file

	stateLink  link.Link
	sockIter   *link.Iter
	ownersIter *link.Iter

	hooks []string // what was attached, for the log
}

// errNotPermitted explains the usual reason the agent cannot run.
var errNotPermitted = errors.New("eBPF not permitted: run as root or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN")

// checkPrivileges fails early, with the reason, where BPF cannot work.
func checkPrivileges() error {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return fmt.Errorf("kernel BTF missing (/sys/kernel/btf/vmlinux): CO-RE programs cannot be relocated: %w", err)
	}
	if os.Geteuid() == 0 {
		return nil
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	if !has(unix.CAP_SYS_ADMIN) && !(has(unix.CAP_BPF) && has(unix.CAP_PERFMON)) {
		return errNotPermitted
	}
	return nil
}

// loadKernel loads the programs sized by cfg and attaches them, choosing
// the optional hooks the kernel supports.
func loadKernel(cfg Configuration) (*kernel, error) {
	if err := checkPrivileges(); err != nil {
		return nil, err
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK.
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("raise memlock limit (needs CAP_SYS_RESOURCE on kernels before 5.11): %w", err)
	}
	spec, err := bpf.LoadSpec()
	if err != nil {
		return nil, fmt.Errorf("bpf spec: %w", err)
	}
	spec.Maps[bpf.NpmMapListeners].MaxEntries = max(cfg.MaxSockets/16, 1024)
	spec.Maps[bpf.NpmMapEvents].MaxEntries = cfg.RingBufferBytes
	if err := spec.Variables[bpf.NpmVarWakeBytes].Set(uint64(cfg.RingBufferBytes / 4)); err != nil {
		return nil, fmt.Errorf("set wake_bytes: %w", err)
	}

	k := &kernel{}
	var core struct {
		bpf.NpmMaps
		OnState   *ebpf.Program `ebpf:"on_state"`
		DumpSocks *ebpf.Program `ebpf:"dump_socks"`
	}
	if err := spec.LoadAndAssign(&core, nil); err != nil {
		return nil, fmt.Errorf("load bpf programs: %w", explain(err))
	}
	k.maps, k.onState, k.dumpSocks = core.NpmMaps, core.OnState, core.DumpSocks

	// tp_btf (5.5+) gives the typed socket pointer and the socket cookie.
	k.stateLink, err = link.AttachTracing(link.TracingOptions{Program: k.onState})
	if err != nil {
		k.close()
		return nil, fmt.Errorf("attach tp_btf/inet_sock_set_state: %w", explain(err))
	}
	k.hooks = append(k.hooks, "tp_btf/inet_sock_set_state")
	k.sockIter, err = link.AttachIter(link.IterOptions{Program: k.dumpSocks, Map: k.maps.Socks})
	if err != nil {
		k.close()
		return nil, fmt.Errorf("attach iter/bpf_sk_storage_map (needs Linux 5.11+): %w", explain(err))
	}
	k.hooks = append(k.hooks, "iter/bpf_sk_storage_map")

	// Optional: owners of sockets opened before the agent, or accepted
	// from listeners it did not see open.
	var owners struct {
		FindOwners *ebpf.Program `ebpf:"find_owners"`
	}
	err = spec.LoadAndAssign(&owners, &ebpf.CollectionOptions{MapReplacements: map[string]*ebpf.Map{
		bpf.NpmMapSocks: k.maps.Socks, bpf.NpmMapListeners: k.maps.Listeners, bpf.NpmMapCounters: k.maps.Counters,
	}})
	if err == nil {
		k.findOwner = owners.FindOwners
		k.ownersIter, err = link.AttachIter(link.IterOptions{Program: k.findOwner})
	}
	if err != nil {
		k.hooks = append(k.hooks, "no owner iterator ("+firstLine(err)+")")
	} else {
		k.hooks = append(k.hooks, "iter/task_file")
	}
	return k, nil
}

// explain turns a permission error into the reason an operator can act on.
func explain(err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("%w (%w)", errNotPermitted, err)
	}
	return err
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// readIter runs an iterator once and hands its output to fn.
func readIter(it *link.Iter, fn func(io.Reader) error) error {
	rc, err := it.Open()
	if err != nil {
		return fmt.Errorf("open iterator: %w", err)
	}
	defer rc.Close()
	return fn(rc)
}

// counters sums the per-CPU counters of the programs.
func (k *kernel) counters() ([bpf.CounterMax]uint64, error) {
	var out [bpf.CounterMax]uint64
	for i := range uint32(bpf.CounterMax) {
		var per []uint64
		if err := k.maps.Counters.Lookup(i, &per); err != nil {
			return out, fmt.Errorf("read counter %d: %w", i, err)
		}
		for _, v := range per {
			out[i] += v
		}
	}
	return out, nil
}

func (k *kernel) close() {
	if k.stateLink != nil {
		_ = k.stateLink.Close()
	}
	if k.sockIter != nil {
		_ = k.sockIter.Close()
	}
	if k.ownersIter != nil {
		_ = k.ownersIter.Close()
	}
	for _, p := range []*ebpf.Program{k.onState, k.dumpSocks, k.findOwner} {
		if p != nil {
			_ = p.Close()
		}
	}
	_ = k.maps.Close()
}
