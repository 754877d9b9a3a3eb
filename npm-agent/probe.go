package npmagent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"

	"github.com/netstrata/netstrata/bpf"
)

// Outcomes of one probed feature, from the operator's point of view: each
// names what to do about it.
const (
	outcomeOK          = "ok"
	outcomeNoPrivilege = "not permitted"     // a capability is missing
	outcomeRefused     = "refused by kernel" // EPERM with every privilege: policy, lockdown, LSM
	outcomeVerifier    = "verifier rejected"
	outcomeNoBTF       = "no BTF"
	outcomeTooOld      = "kernel too old"
	outcomeError       = "error"
)

// Finding is the result of probing one feature.
type Finding struct {
	Feature string // e.g. "iter/tcp", "map sk_storage", "privileges"
	Outcome string
	Detail  string
}

// OK reports whether the feature is usable.
func (f Finding) OK() bool { return f.Outcome == outcomeOK }

// StrategyFinding says whether a strategy can run here, and why not.
type StrategyFinding struct {
	Name, Summary string
	Runs          bool
	Why           string
}

// Probe is what this kernel and process allow, found by loading.
type Probe struct {
	Features   []Finding
	Strategies []StrategyFinding
	Chosen     string // the strategy that runs; "" when none can
}

// Feature returns the finding for a feature name.
func (p *Probe) Feature(name string) (Finding, bool) {
	for _, f := range p.Features {
		if f.Feature == name {
			return f, true
		}
	}
	return Finding{}, false
}

// Strategy returns the finding for a strategy name.
func (p *Probe) Strategy(name string) (StrategyFinding, bool) {
	for _, s := range p.Strategies {
		if s.Name == name {
			return s, true
		}
	}
	return StrategyFinding{}, false
}

// Write prints the probe as a table.
func (p *Probe) Write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tRESULT\tDETAIL")
	for _, f := range p.Features {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Feature, f.Outcome, f.Detail)
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintln(tw, "STRATEGY\tRESULT\tDETAIL")
	for _, s := range p.Strategies {
		res, detail := "unavailable", s.Why
		switch {
		case s.Name == p.Chosen:
			res, detail = "chosen", s.Summary
		case s.Runs:
			res, detail = "available", s.Summary
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, res, detail)
	}
	_ = tw.Flush()
}

// String is the table, for errors and logs.
func (p *Probe) String() string {
	var b strings.Builder
	p.Write(&b)
	return b.String()
}

// why is a one-line summary of what stops a strategy, for logs.
func (p *Probe) why() string {
	var parts []string
	for _, s := range p.Strategies {
		if !s.Runs {
			parts = append(parts, s.Name+": "+s.Why)
		}
	}
	return strings.Join(parts, "; ")
}

// capabilities of this process that the strategies need.
type capabilities struct {
	root, bpf, perfmon, sysAdmin bool
}

func readCapabilities() (capabilities, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return capabilities{}, fmt.Errorf("read capabilities: %w", err)
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	return capabilities{root: os.Geteuid() == 0, bpf: has(unix.CAP_BPF), perfmon: has(unix.CAP_PERFMON),
		sysAdmin: has(unix.CAP_SYS_ADMIN)}, nil
}

// canLoad: tracing programs need CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN.
func (c capabilities) canLoad() bool { return c.sysAdmin || c.bpf && c.perfmon }

// privilegeFinding names the missing capabilities, if any.
func privilegeFinding(c capabilities, err error) Finding {
	f := Finding{Feature: "privileges", Outcome: outcomeOK}
	switch {
	case err != nil:
		f.Outcome, f.Detail = outcomeError, err.Error()
	case !c.canLoad():
		var missing []string
		if !c.bpf {
			missing = append(missing, "CAP_BPF")
		}
		if !c.perfmon {
			missing = append(missing, "CAP_PERFMON")
		}
		f.Outcome = outcomeNoPrivilege
		f.Detail = "missing " + strings.Join(missing, " and ") + " (or CAP_SYS_ADMIN): run as root or grant them"
	case !c.sysAdmin:
		f.Detail = "CAP_BPF and CAP_PERFMON; without CAP_SYS_ADMIN " + StrategyTCPIter + " cannot enter other network namespaces"
	case c.root:
		f.Detail = "root"
	default:
		f.Detail = "CAP_SYS_ADMIN"
	}
	return f
}

func btfFinding() Finding {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return Finding{Feature: "kernel BTF", Outcome: outcomeNoBTF,
			Detail: "/sys/kernel/btf/vmlinux missing: CO-RE programs cannot be relocated (needs CONFIG_DEBUG_INFO_BTF, Linux 5.5+)"}
	}
	return Finding{Feature: "kernel BTF", Outcome: outcomeOK, Detail: "/sys/kernel/btf/vmlinux"}
}

// mapFindings asks cilium/ebpf's feature probes for the map types.
func mapFindings() []Finding {
	var out []Finding
	for _, m := range []struct {
		t       ebpf.MapType
		name    string
		version string
	}{{ebpf.SkStorage, "map sk_storage", "5.2"}, {ebpf.RingBuf, "map ringbuf", "5.8"}, {ebpf.LRUHash, "map lru_hash", "4.10"}} {
		f := Finding{Feature: m.name, Outcome: outcomeOK}
		if err := features.HaveMapType(m.t); err != nil {
			f.Outcome, f.Detail = classify(err, true)
			if errors.Is(err, ebpf.ErrNotSupported) {
				f.Detail = "needs Linux " + m.version + "+"
			}
		}
		out = append(out, f)
	}
	return out
}

// classify turns a load error into an outcome and a short detail an
// operator can act on. privileged says whether the process had the
// capabilities to load, which tells a kernel's refusal from ours.
func classify(err error, privileged bool) (string, string) {
	var ve *ebpf.VerifierError
	switch {
	case err == nil:
		return outcomeOK, ""
	case errors.Is(err, ebpf.ErrNotSupported):
		return outcomeTooOld, firstLine(err)
	case (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)) && !privileged:
		return outcomeNoPrivilege, "run as root or with CAP_BPF and CAP_PERFMON: " + firstLine(err)
	case errors.Is(err, unix.EPERM):
		return outcomeRefused, "EPERM with every privilege: this kernel's policy (lockdown, LSM, disabled attach type) refuses it"
	case errors.As(err, &ve):
		return outcomeVerifier, verifierExcerpt(ve)
	default:
		return outcomeError, firstLine(err)
	}
}

// verifierExcerpt is the verifier's last words before its statistics.
func verifierExcerpt(ve *ebpf.VerifierError) string {
	var lines []string
	for _, l := range ve.Log {
		if strings.HasPrefix(l, "verification time") {
			break
		}
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	lines = lines[max(len(lines)-2, 0):]
	return fmt.Sprintf("%v: %s", ve.Cause, strings.Join(lines, " | "))
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// blocker names the first failed finding, which stopped the probe.
func (p *Probe) blocker() string {
	for _, f := range p.Features {
		if !f.OK() {
			return f.Feature + " " + f.Outcome
		}
	}
	return "unknown"
}

// judgeStrategies fills p.Strategies from the program findings and picks
// the first that runs, or the one forced by name.
func (p *Probe) judgeStrategies(caps capabilities, forced string) {
	p.Strategies = p.Strategies[:0]
	for _, s := range strategies {
		sf := StrategyFinding{Name: s.name, Summary: s.summary, Runs: true}
		for _, prog := range s.needs {
			f, probed := p.Feature(bpf.Hooks[prog])
			if !probed {
				sf.Runs, sf.Why = false, "not probed: "+p.blocker()
				break
			}
			if !f.OK() {
				sf.Runs, sf.Why = false, "needs "+f.Feature+": "+f.Outcome
				break
			}
		}
		if sf.Runs && s.perNetns && !caps.sysAdmin {
			sf.Runs, sf.Why = false, "needs CAP_SYS_ADMIN to open iter/tcp in other network namespaces (setns)"
		}
		p.Strategies = append(p.Strategies, sf)
		if sf.Runs && p.Chosen == "" && (forced == StrategyAuto || forced == "" || forced == s.name) {
			p.Chosen = s.name
		}
	}
}
