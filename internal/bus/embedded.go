package bus

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/netstrata/netstrata/internal/telemetry"
)

// EmbeddedConfiguration configures the embedded broker: franz-go's kfake,
// which speaks the Kafka protocol (consumer groups, idempotent producers,
// compression) and persists to a data dir.
type EmbeddedConfiguration struct {
	Listen         string        `yaml:"listen"`
	DataDir        string        `yaml:"data_dir"` // "" keeps everything in memory
	Partitions     int32         `yaml:"partitions"`
	Retention      time.Duration `yaml:"retention"`
	RetentionBytes int64         `yaml:"retention_bytes"` // per partition
}

// DefaultEmbeddedConfiguration listens where DefaultConfiguration looks.
func DefaultEmbeddedConfiguration(dataDir string) EmbeddedConfiguration {
	return EmbeddedConfiguration{
		Listen:         "127.0.0.1:9092",
		DataDir:        dataDir,
		Retention:      24 * time.Hour,
		RetentionBytes: 1 << 30,
	}
}

// Embedded is a running embedded broker.
type Embedded struct {
	c    *kfake.Cluster
	addr string
}

// StartEmbedded starts the broker; its state (records, committed offsets)
// is reloaded from DataDir when present.
func StartEmbedded(cfg EmbeddedConfiguration, r *telemetry.Reporter) (*Embedded, error) {
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka listen %q: %w", cfg.Listen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka listen %q: bad port", cfg.Listen)
	}
	// kfake has no authentication here: anyone who reaches it reads and
	// writes every topic. A shared broker is a real Kafka with SASL/TLS.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("embedded kafka listen %q: not a loopback address; the embedded broker has no authentication (use a Kafka cluster with kafka.sasl and kafka.tls to share one)", cfg.Listen)
	}
	partitions := cfg.Partitions
	if partitions <= 0 {
		partitions = Configuration{}.PartitionCount()
	}
	brokerCfg := map[string]string{}
	if cfg.Retention > 0 {
		brokerCfg["log.retention.ms"] = strconv.FormatInt(cfg.Retention.Milliseconds(), 10)
	}
	if cfg.RetentionBytes > 0 {
		brokerCfg["log.retention.bytes"] = strconv.FormatInt(cfg.RetentionBytes, 10)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(p),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			// kfake would listen on all interfaces; ours stays on Listen's host.
			return net.Listen(network, net.JoinHostPort(host, port))
		}),
		kfake.DefaultNumPartitions(int(partitions)),
		kfake.AllowAutoTopicCreation(),
		kfake.BrokerConfigs(brokerCfg),
		kfake.ClusterID("netstrata-embedded"),
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("embedded kafka data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka on %s: %w", cfg.Listen, err)
	}
	e := &Embedded{c: c, addr: c.ListenAddrs()[0]}
	if r != nil {
		r.Log.Info("embedded kafka listening", "addr", e.addr, "data_dir", cfg.DataDir)
	}
	return e, nil
}

// Addr is the broker's address, for Configuration.Brokers.
func (e *Embedded) Addr() string { return e.addr }

// Stop closes the broker, persisting its state.
func (e *Embedded) Stop(context.Context) error {
	e.c.Close()
	return nil
}
