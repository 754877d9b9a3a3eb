package npmagent

import (
	"os"
	"slices"
	"strings"
	"time"

	"github.com/netstrata/netstrata/internal/config"
)

// Configuration is the npm_agent section.
type Configuration struct {
	// Node names this machine in every record; default $NODE_NAME (set by
	// the DaemonSet from spec.nodeName), else the hostname.
	Node string `yaml:"node"`
	// Interval between records of one socket.
	Interval time.Duration `yaml:"interval"`
	// SampleInterval is how often sockets are read within an interval:
	// srtt min/max and jitter come from these samples. Equal to Interval
	// for one read per interval (cheapest).
	SampleInterval time.Duration `yaml:"sample_interval"`
	// MaxSockets bounds the sockets the agent tracks (its memory); the
	// listener-owner LRU map holds MaxSockets/16 and the file-owner LRU
	// map (owners of sockets from before the agent) MaxSockets/4. Beyond
	// it sockets are counted in sockets_untracked_total and bpf_map_full
	// shows 1.
	MaxSockets uint32 `yaml:"max_sockets"`
	// RingBufferBytes sizes the close-event ring buffer (a power of two,
	// a multiple of the page size).
	RingBufferBytes uint32 `yaml:"ring_buffer_bytes"`
	// EmitIdle also publishes sockets with no activity in the interval.
	EmitIdle bool `yaml:"emit_idle"`
	// CgroupRoot is the cgroup v2 mount; "" finds it in /proc/self/mountinfo.
	CgroupRoot string `yaml:"cgroup_root"`
	// ProcRoot is where the host's /proc is (the DaemonSet uses hostPID).
	ProcRoot string `yaml:"proc_root"`
	// Kubernetes is "auto" (watch pods when running in a cluster) or "off".
	Kubernetes string `yaml:"kubernetes"`
	// PodResync republishes every pod of the node this often.
	PodResync time.Duration `yaml:"pod_resync"`
	// Strategy is how the agent reads every socket: "auto" (the first of
	// sk_storage_iter, tcp_iter that this kernel accepts, found by
	// loading them at start; a walk refused later moves to the next),
	// or one of them forced, with no fallback. `netstrata npm-agent
	// --probe` shows which this kernel accepts.
	Strategy string `yaml:"strategy"`
}

// DefaultConfiguration reads a record every 2 s and publishes every 10 s.
func DefaultConfiguration() Configuration {
	return Configuration{
		Node:            defaultNode(),
		Interval:        10 * time.Second,
		SampleInterval:  2 * time.Second,
		MaxSockets:      262144,
		RingBufferBytes: 8 << 20,
		ProcRoot:        "/proc",
		Kubernetes:      "auto",
		PodResync:       10 * time.Minute,
		Strategy:        StrategyAuto,
	}
}

func defaultNode() string {
	if n := os.Getenv("NODE_NAME"); n != "" {
		return n
	}
	h, _ := os.Hostname()
	return h
}

// Validate names the bad field.
func (c Configuration) Validate() error {
	const p = "npm_agent."
	page := uint32(os.Getpagesize())
	for _, err := range []error{
		config.Check(c.Node != "", p+"node", "must not be empty (set it or NODE_NAME)"),
		config.Check(c.Interval >= time.Second, p+"interval", "%s is shorter than 1s", c.Interval),
		config.Check(c.SampleInterval > 0 && c.SampleInterval <= c.Interval, p+"sample_interval",
			"%s must be positive and at most interval (%s)", c.SampleInterval, c.Interval),
		config.Check(c.MaxSockets >= 1024, p+"max_sockets", "%d is below 1024", c.MaxSockets),
		config.Check(c.RingBufferBytes >= page && c.RingBufferBytes&(c.RingBufferBytes-1) == 0, p+"ring_buffer_bytes",
			"%d is not a power of two of at least the page size (%d)", c.RingBufferBytes, page),
		config.Check(c.ProcRoot != "", p+"proc_root", "must not be empty"),
		config.Check(c.Kubernetes == "auto" || c.Kubernetes == "off", p+"kubernetes", "%q is not auto or off", c.Kubernetes),
		config.Check(c.PodResync >= time.Minute, p+"pod_resync", "%s is shorter than 1m", c.PodResync),
		config.Check(slices.Contains(strategyNames(), c.Strategy), p+"strategy", "%q is not one of %s",
			c.Strategy, strings.Join(strategyNames(), ", ")),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// samplesPerInterval is how many socket reads make one record.
func (c Configuration) samplesPerInterval() int {
	n := int(c.Interval / c.SampleInterval)
	return max(n, 1)
}
