package npmagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sys/unix"

	"github.com/netstrata/netstrata/bpf"
	"github.com/netstrata/netstrata/internal/telemetry"

	"github.com/netstrata/netstrata/internal/bus/bustest"
)

func TestClassifyTellsRefusalFromPrivilegeVerifierAndAge(t *testing.T) {
	rejected := &ebpf.VerifierError{Cause: unix.EACCES, Log: []string{
		"110: (85) call bpf_sk_storage_get#107",
		"R2 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_",
		"verification time 1122 usec", "processed 139 insns (limit 1000000)"}}
	for _, tc := range []struct {
		name       string
		err        error
		privileged bool
		outcome    string
		detail     string
	}{
		{"loaded", nil, true, outcomeOK, ""},
		{"kernel refuses with every privilege", fmt.Errorf("load program: %w", unix.EPERM), true, outcomeRefused, "EPERM with every privilege"},
		{"capability missing", fmt.Errorf("load program: %w", unix.EPERM), false, outcomeNoPrivilege, "CAP_BPF"},
		{"verifier", fmt.Errorf("program find_owners: %w", rejected), true, outcomeVerifier, "R2 type=untrusted_ptr_"},
		{"old kernel", fmt.Errorf("attach type: %w", ebpf.ErrNotSupported), true, outcomeTooOld, "not supported"},
		{"other", errors.New("boom"), true, outcomeError, "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outcome, detail := classify(tc.err, tc.privileged)
			if outcome != tc.outcome || !strings.Contains(detail, tc.detail) {
				t.Errorf("classify = %q, %q; want %q containing %q", outcome, detail, tc.outcome, tc.detail)
			}
		})
	}
}

func TestJudgeStrategiesPicksTheFirstThatLoadsOrTheForcedOne(t *testing.T) {
	refusedMapIter := func() *Probe {
		p := &Probe{}
		for _, prog := range bpf.Programs {
			f := Finding{Feature: bpf.Hooks[prog], Outcome: outcomeOK}
			if prog == bpf.ProgDumpSocks {
				f.Outcome = outcomeRefused
			}
			p.Features = append(p.Features, f)
		}
		return p
	}
	root := capabilities{root: true, bpf: true, perfmon: true, sysAdmin: true}
	p := refusedMapIter()
	p.judgeStrategies(root, StrategyAuto)
	if p.Chosen != StrategyTCPIter {
		t.Errorf("auto chose %q, want %s", p.Chosen, StrategyTCPIter)
	}
	if s, _ := p.Strategy(StrategySkStorageIter); s.Runs || !strings.Contains(s.Why, "iter/bpf_sk_storage_map: refused by kernel") {
		t.Errorf("sk_storage_iter: %+v", s)
	}
	p = refusedMapIter()
	p.judgeStrategies(root, StrategySkStorageIter)
	if p.Chosen != "" {
		t.Errorf("forced refused strategy chosen: %q", p.Chosen)
	}
	p = refusedMapIter()
	p.judgeStrategies(capabilities{bpf: true, perfmon: true}, StrategyAuto)
	if s, _ := p.Strategy(StrategyTCPIter); s.Runs || !strings.Contains(s.Why, "CAP_SYS_ADMIN") || p.Chosen != "" {
		t.Errorf("without CAP_SYS_ADMIN: chosen %q, %+v", p.Chosen, s)
	}
	table := p.String()
	for _, want := range []string{"FEATURE", "iter/bpf_sk_storage_map", "refused by kernel", "STRATEGY", "unavailable"} {
		if !strings.Contains(table, want) {
			t.Errorf("probe table lacks %q:\n%s", want, table)
		}
	}
}

func TestPrivilegeFindingNamesTheMissingCapability(t *testing.T) {
	f := privilegeFinding(capabilities{perfmon: true}, nil)
	if f.OK() || !strings.Contains(f.Detail, "CAP_BPF") || strings.Contains(f.Detail, "CAP_PERFMON") {
		t.Errorf("%+v", f)
	}
}

// TestProbeNamesEveryProgramAndChoosesARunnableStrategy runs the real
// probe on this kernel, whichever kind it is.
func TestProbeNamesEveryProgramAndChoosesARunnableStrategy(t *testing.T) {
	eachStrategy(t, func(t *testing.T, strategy string) {})
	p := probed()
	for _, prog := range bpf.Programs {
		f, ok := p.Feature(bpf.Hooks[prog])
		if !ok {
			t.Errorf("no finding for %s", bpf.Hooks[prog])
			continue
		}
		if !f.OK() && f.Detail == "" {
			t.Errorf("%s %s without a reason", f.Feature, f.Outcome)
		}
		t.Logf("%-28s %s %s", f.Feature, f.Outcome, f.Detail)
	}
	if s, ok := p.Strategy(p.Chosen); !ok || !s.Runs {
		t.Fatalf("chosen %q does not run:\n%s", p.Chosen, p)
	}
}

// TestForcedStrategyTheKernelRefusesFailsWithTheProbe: the agent does not
// fall back from a strategy the operator chose, and says why it cannot run.
func TestForcedStrategyTheKernelRefusesFailsWithTheProbe(t *testing.T) {
	eachStrategy(t, func(t *testing.T, strategy string) {})
	refused := ""
	for _, s := range probed().Strategies {
		if !s.Runs {
			refused = s.Name
		}
	}
	if refused == "" {
		t.Skip("this kernel runs every strategy")
	}
	cfg := DefaultConfiguration()
	cfg.Kubernetes, cfg.Strategy = "off", refused
	r := telemetry.NewReporter(slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	c, err := New(r, cfg, Dependencies{Publisher: &bustest.Publisher{}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(context.Background())
	if err == nil {
		_ = c.Stop()
		t.Fatalf("forced %s started", refused)
	}
	var ns *NoStrategyError
	if !errors.As(err, &ns) || !strings.Contains(err.Error(), "npm_agent.strategy "+refused) || !strings.Contains(err.Error(), "STRATEGY") {
		t.Errorf("error does not name the strategy and the probe: %v", err)
	}
	if v := testutil.ToFloat64(c.m.strategy.WithLabelValues(refused)); v != 0 {
		t.Errorf("strategy gauge of %s = %v", refused, v)
	}
}

// TestAgentFallsBackWhenTheWalkFailsAtRunTime: a walk that starts failing
// after start moves the agent to the next strategy the probe found, and
// the records go on.
func TestAgentFallsBackWhenTheWalkFailsAtRunTime(t *testing.T) {
	eachStrategy(t, func(t *testing.T, strategy string) {
		agent, _ := startAgent(t, StrategyAuto)
		if agent.k.strat.name != strategy {
			t.Skipf("auto runs %s", agent.k.strat.name)
		}
		next, ok := agent.k.next()
		if !ok {
			t.Skipf("no strategy after %s on this kernel", strategy)
		}
		// The kernel's refusal cannot be caused on demand: a closed
		// iterator fails every open the same way, three times.
		_ = agent.k.walkIter.Close()
		for range 3 {
			agent.collect(false)
		}
		if agent.k.strat.name != next.name {
			t.Fatalf("still on %s after the walk failed", agent.k.strat.name)
		}
		if v := testutil.ToFloat64(agent.m.fallbacks); v != 1 {
			t.Errorf("fallbacks = %v", v)
		}
		if v := testutil.ToFloat64(agent.m.strategy.WithLabelValues(next.name)); v != 1 {
			t.Errorf("strategy gauge of %s = %v", next.name, v)
		}
	})
}
