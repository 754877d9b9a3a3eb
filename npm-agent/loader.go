package npmagent

import (
	"fmt"
	"io"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"

	"github.com/netstrata/netstrata/bpf"
)

// kernel is the loaded and attached BPF side of the agent.
type kernel struct {
	probe *Probe
	caps  capabilities

	mapColl *ebpf.Collection         // every map, shared by the programs
	maps    bpf.NpmMaps              // the same maps, by name
	progs   map[string]*ebpf.Program // the programs this kernel loaded

	strat      strategy   // the walk that runs
	stateLink  link.Link  // tp_btf/inet_sock_set_state
	walkIter   *link.Iter // the strategy's walk
	tcpIter    *link.Iter // iter/tcp, for the tcp_iter walk and for adopting sockets at start
	ownersIter *link.Iter // nil when find_owners did not load
	netns      *netnsWalker

	hooks []string // what was attached, for the log
}

// NoStrategyError says that no strategy can run, with the probe that
// shows why.
type NoStrategyError struct {
	Forced string
	Probe  *Probe
}

func (e *NoStrategyError) Error() string {
	if e.Forced != "" && e.Forced != StrategyAuto {
		return fmt.Sprintf("npm_agent.strategy %s cannot run on this kernel: %s", e.Forced, e.Probe.why())
	}
	return "no eBPF strategy can run on this kernel: " + e.Probe.why()
}

// ProbeKernel finds what this kernel accepts by loading every program,
// then unloads them. It is `netstrata npm-agent --probe`.
func ProbeKernel(cfg Configuration) *Probe {
	k := probeKernel(cfg)
	k.close()
	return k.probe
}

// probeKernel loads the maps and each program on its own, recording what
// the kernel accepts; the programs stay loaded for the agent to attach.
func probeKernel(cfg Configuration) *kernel {
	p := &Probe{}
	caps, capErr := readCapabilities()
	k := &kernel{probe: p, caps: caps, progs: map[string]*ebpf.Program{}}
	p.Features = append(p.Features, privilegeFinding(caps, capErr), btfFinding())
	defer p.judgeStrategies(caps, cfg.Strategy)
	if !p.Features[0].OK() || !p.Features[1].OK() {
		return k
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK.
	if err := rlimit.RemoveMemlock(); err != nil {
		p.Features = append(p.Features, Finding{Feature: "memlock", Outcome: outcomeNoPrivilege,
			Detail: "raise RLIMIT_MEMLOCK (needs CAP_SYS_RESOURCE before Linux 5.11): " + firstLine(err)})
		return k
	}
	p.Features = append(p.Features, mapFindings()...)
	spec, err := sizedSpec(cfg)
	if err == nil {
		err = k.createMaps(spec)
	}
	if err != nil {
		p.Features = append(p.Features, Finding{Feature: "maps", Outcome: outcomeError, Detail: firstLine(err)})
		return k
	}
	for _, name := range bpf.Programs {
		prog, err := loadProgram(spec, k.mapColl.Maps, name)
		outcome, detail := classify(err, caps.canLoad())
		p.Features = append(p.Features, Finding{Feature: bpf.Hooks[name], Outcome: outcome, Detail: detail})
		if err == nil {
			k.progs[name] = prog
		}
	}
	return k
}

// sizedSpec is the programs' spec with the maps sized by cfg.
func sizedSpec(cfg Configuration) (*ebpf.CollectionSpec, error) {
	spec, err := bpf.LoadSpec()
	if err != nil {
		return nil, fmt.Errorf("bpf spec: %w", err)
	}
	spec.Maps[bpf.NpmMapListeners].MaxEntries = max(cfg.MaxSockets/16, 1024)
	// LRU maps are preallocated (kernel memory, charged to the agent's
	// cgroup): owners are only looked up for sockets the hooks could not
	// attribute, far fewer than all of them.
	spec.Maps[bpf.NpmMapFileOwners].MaxEntries = max(cfg.MaxSockets/4, 4096)
	spec.Maps[bpf.NpmMapEvents].MaxEntries = cfg.RingBufferBytes
	if err := spec.Variables[bpf.NpmVarWakeBytes].Set(uint64(cfg.RingBufferBytes / 4)); err != nil {
		return nil, fmt.Errorf("set wake_bytes: %w", err)
	}
	return spec, nil
}

// createMaps creates every map of the spec once (with .rodata, which
// holds wake_bytes); each program, loaded on its own, shares them.
func (k *kernel) createMaps(spec *ebpf.CollectionSpec) error {
	coll, err := ebpf.NewCollection(&ebpf.CollectionSpec{Maps: spec.Maps, Variables: spec.Variables, Types: spec.Types})
	if err != nil {
		return fmt.Errorf("create maps: %w", err)
	}
	m := coll.Maps
	k.mapColl = coll
	k.maps = bpf.NpmMaps{Counters: m[bpf.NpmMapCounters], Events: m[bpf.NpmMapEvents], FileOwners: m[bpf.NpmMapFileOwners],
		Listeners: m[bpf.NpmMapListeners], Socks: m[bpf.NpmMapSocks]}
	return nil
}

// loadProgram loads one program against the shared maps. The verifier's
// statistics are asked for so that a rejection carries its log.
func loadProgram(spec *ebpf.CollectionSpec, maps map[string]*ebpf.Map, name string) (*ebpf.Program, error) {
	one := &ebpf.CollectionSpec{Maps: spec.Maps, Variables: spec.Variables, Types: spec.Types,
		Programs: map[string]*ebpf.ProgramSpec{name: spec.Programs[name]}}
	coll, err := ebpf.NewCollectionWithOptions(one, ebpf.CollectionOptions{MapReplacements: maps,
		Programs: ebpf.ProgramOptions{LogLevel: ebpf.LogLevelStats}})
	if err != nil {
		return nil, err
	}
	defer coll.Close()
	return coll.DetachProgram(name), nil
}

// loadKernel probes, then attaches the lifecycle hook and the chosen
// strategy's walk; it fails with the probe when no strategy can run.
func loadKernel(cfg Configuration) (*kernel, error) {
	k := probeKernel(cfg)
	if k.probe.Chosen == "" {
		k.close()
		return nil, &NoStrategyError{Forced: cfg.Strategy, Probe: k.probe}
	}
	k.netns = newNetnsWalker(cfg.ProcRoot)
	var err error
	k.stateLink, err = link.AttachTracing(link.TracingOptions{Program: k.progs[bpf.ProgOnState]})
	if err != nil {
		k.close()
		return nil, fmt.Errorf("attach %s: %w", bpf.Hooks[bpf.ProgOnState], err)
	}
	k.hooks = append(k.hooks, bpf.Hooks[bpf.ProgOnState])
	if p := k.progs[bpf.ProgDumpTCP]; p != nil && k.caps.sysAdmin {
		if k.tcpIter, err = link.AttachIter(link.IterOptions{Program: p}); err != nil {
			k.tcpIter = nil
		}
	}
	s, _ := strategyByName(k.probe.Chosen)
	if err := k.use(s); err != nil {
		k.close()
		return nil, err
	}
	k.attachOwners()
	return k, nil
}

// use switches the walk to strategy s.
func (k *kernel) use(s strategy) error {
	var it *link.Iter
	switch s.name {
	case StrategyTCPIter:
		if k.tcpIter == nil {
			return fmt.Errorf("strategy %s: %s is not attached", s.name, bpf.Hooks[bpf.ProgDumpTCP])
		}
		it = k.tcpIter
	default:
		var err error
		it, err = link.AttachIter(link.IterOptions{Program: k.progs[s.walk], Map: k.maps.Socks})
		if err != nil {
			return fmt.Errorf("strategy %s: attach %s: %w", s.name, bpf.Hooks[s.walk], err)
		}
	}
	if k.walkIter != nil && k.walkIter != k.tcpIter {
		_ = k.walkIter.Close()
	}
	k.strat, k.walkIter = s, it
	k.hooks = append(k.hooks, bpf.Hooks[s.walk])
	return nil
}

// next returns the strategy after the running one that the probe found
// runnable, for a fallback after a refusal at run time.
func (k *kernel) next() (strategy, bool) {
	after := false
	for _, s := range strategies {
		if s.name == k.strat.name {
			after = true
			continue
		}
		if f, _ := k.probe.Strategy(s.name); after && f.Runs {
			return s, true
		}
	}
	return strategy{}, false
}

// attachOwners attaches find_owners where it loaded: owners of sockets
// opened before the agent, or accepted from listeners it did not see.
func (k *kernel) attachOwners() {
	p := k.progs[bpf.ProgFindOwners]
	if p == nil {
		f, _ := k.probe.Feature(bpf.Hooks[bpf.ProgFindOwners])
		k.hooks = append(k.hooks, "no owner iterator ("+f.Outcome+")")
		return
	}
	it, err := link.AttachIter(link.IterOptions{Program: p})
	if err != nil {
		k.hooks = append(k.hooks, "no owner iterator ("+firstLine(err)+")")
		return
	}
	k.ownersIter = it
	k.hooks = append(k.hooks, bpf.Hooks[bpf.ProgFindOwners])
}

// walk runs the strategy's walk and hands each output to fn: once, or
// once per network namespace.
func (k *kernel) walk(fn func(io.Reader) error) error {
	if k.strat.perNetns {
		return k.netns.each(k.walkIter, fn)
	}
	return readIter(k.walkIter, fn)
}

// adopt gives socket storage to the sockets that were open before the
// agent, so that the storage walk sees them: one iter/tcp pass through
// every namespace. The tcp_iter walk does it on every pass.
func (k *kernel) adopt() error {
	if k.strat.perNetns || k.tcpIter == nil {
		return nil
	}
	return k.netns.each(k.tcpIter, drain)
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
	if k.walkIter != nil && k.walkIter != k.tcpIter {
		_ = k.walkIter.Close()
	}
	for _, it := range []*link.Iter{k.tcpIter, k.ownersIter} {
		if it != nil {
			_ = it.Close()
		}
	}
	for _, p := range k.progs {
		_ = p.Close()
	}
	if k.mapColl != nil {
		k.mapColl.Close()
	}
}
