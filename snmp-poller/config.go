// Package snmppoller polls switches, routers and firewalls over SNMP
// v1/v2c/v3, walks IF-MIB, turns consecutive counter readings into rates
// that survive wraps and reboots, and publishes one record.InterfaceStats
// per interface per poll to netstrata.ifstats.v1 keyed by device.
package snmppoller

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/netstrata/netstrata/internal/config"
)

// Configuration is the snmp_poller section.
type Configuration struct {
	// Defaults apply to every target field left unset.
	Defaults TargetDefaults `yaml:"defaults"`
	// Targets are the devices to poll.
	Targets []Target `yaml:"targets"`
	// TargetsFile optionally holds more targets (a YAML list of targets,
	// or a map with a "targets" key); it is re-read when it changes.
	TargetsFile string `yaml:"targets_file"`
	// TargetsFileCheck is how often the file is checked for changes.
	TargetsFileCheck time.Duration `yaml:"targets_file_check"`

	// Workers is the number of polls in flight at once across the fleet.
	// A poll mostly waits on the network, so this is well above the core
	// count. 256 rather than 64: with agents that answer slowly (snmpsim
	// fleets, 1,000-interface devices) 64 workers were all waiting and
	// polls missed their slots, while the poller used 2 % of a core.
	Workers int `yaml:"workers"`
	// Jitter spreads each poll by up to ±Jitter×interval around its slot so
	// that a fleet configured at once does not poll in lockstep.
	Jitter float64 `yaml:"jitter"`
	// MaxBackoff caps how far consecutive timeouts push a target's next
	// poll (the interval doubles per timeout).
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// OverSpeedFactor flags rates above speed×factor as not to be trusted.
	OverSpeedFactor float64 `yaml:"over_speed_factor"`
}

// TargetDefaults are the settings a target inherits.
type TargetDefaults struct {
	Port           uint16        `yaml:"port"`
	Version        string        `yaml:"version"` // 1, 2c or 3
	Community      string        `yaml:"community"`
	V3             V3Credentials `yaml:"v3"`
	Interval       time.Duration `yaml:"interval"`
	Timeout        time.Duration `yaml:"timeout"` // per request
	Retries        int           `yaml:"retries"`
	MaxRepetitions uint32        `yaml:"max_repetitions"` // GETBULK rows per request; 0 walks with GETNEXT
	// PollTimeout bounds a whole poll of a device that keeps answering.
	// It is not the interval: a walk longer than the interval finishes,
	// and the slots it ran past are skipped.
	PollTimeout time.Duration `yaml:"poll_timeout"`
}

// Target is one device. Unset fields take the defaults; Retries and
// MaxRepetitions are pointers so that an explicit 0 is kept.
type Target struct {
	// Name identifies the device in records, tables, the API and metrics
	// (the Kafka key), however it is reached. It defaults to the address,
	// with ":port" when the port is not 161 and "/context" with an SNMPv3
	// context name; targets that differ only by community need one each.
	Name           string         `yaml:"name"`
	Address        string         `yaml:"address"` // host name or IP
	Port           uint16         `yaml:"port"`
	Version        string         `yaml:"version"`
	Community      string         `yaml:"community"`
	V3             *V3Credentials `yaml:"v3"`
	Interval       time.Duration  `yaml:"interval"`
	Timeout        time.Duration  `yaml:"timeout"`
	Retries        *int           `yaml:"retries"`
	MaxRepetitions *uint32        `yaml:"max_repetitions"`
	PollTimeout    time.Duration  `yaml:"poll_timeout"`
}

// V3Credentials are SNMPv3 USM settings. The security level follows from
// what is set: a privacy protocol means authPriv, an authentication
// protocol alone authNoPriv, neither noAuthNoPriv.
type V3Credentials struct {
	User         string `yaml:"user"`
	AuthProtocol string `yaml:"auth_protocol"` // md5, sha, sha224, sha256, sha384, sha512
	AuthPassword string `yaml:"auth_password"`
	PrivProtocol string `yaml:"priv_protocol"` // des, aes, aes192, aes256, aes192c, aes256c
	PrivPassword string `yaml:"priv_password"`
	ContextName  string `yaml:"context_name"`
}

// DefaultConfiguration polls nothing until targets are given; a target
// alone gets v2c, community public, every 60 s.
func DefaultConfiguration() Configuration {
	return Configuration{
		Defaults: TargetDefaults{
			Port:           161,
			Version:        "2c",
			Community:      "public",
			Interval:       time.Minute,
			Timeout:        2 * time.Second,
			Retries:        1,
			MaxRepetitions: 10,
			PollTimeout:    5 * time.Minute,
		},
		TargetsFileCheck: 10 * time.Second,
		Workers:          256,
		Jitter:           0.05,
		MaxBackoff:       10 * time.Minute,
		OverSpeedFactor:  1.1,
	}
}

// Validate checks the section; errors name the field.
func (c Configuration) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(config.Check(c.Workers > 0, "snmp_poller.workers", "must be positive, not %d", c.Workers))
	add(config.Check(c.Jitter >= 0 && c.Jitter <= 0.5, "snmp_poller.jitter", "must be within 0..0.5, not %g", c.Jitter))
	add(config.Check(c.MaxBackoff > 0, "snmp_poller.max_backoff", "must be positive"))
	add(config.Check(c.OverSpeedFactor >= 1, "snmp_poller.over_speed_factor", "must be at least 1, not %g", c.OverSpeedFactor))
	add(config.Check(c.TargetsFile == "" || c.TargetsFileCheck > 0, "snmp_poller.targets_file_check", "must be positive"))
	add(c.Defaults.validate("snmp_poller.defaults"))
	seen := map[string]int{}
	for i, t := range c.Targets {
		field := fmt.Sprintf("snmp_poller.targets[%d]", i)
		r, err := t.resolve(c.Defaults)
		if err != nil {
			add(fmt.Errorf("%s.%w", field, err))
			continue
		}
		if j, dup := seen[r.Name]; dup {
			add(fmt.Errorf("%s.name: %q is also targets[%d]%s", field, r.Name, j, sameNameHint(t)))
		}
		seen[r.Name] = i
	}
	return errors.Join(errs...)
}

// Redacted returns a copy with every community and password masked, for
// printing the effective configuration.
func (c Configuration) Redacted() Configuration {
	c.Defaults.Community = mask(c.Defaults.Community)
	c.Defaults.V3 = c.Defaults.V3.redacted()
	targets := make([]Target, len(c.Targets))
	for i, t := range c.Targets {
		t.Community = mask(t.Community)
		if t.V3 != nil {
			v := t.V3.redacted()
			t.V3 = &v
		}
		targets[i] = t
	}
	c.Targets = targets
	return c
}

func (v V3Credentials) redacted() V3Credentials {
	v.AuthPassword = mask(v.AuthPassword)
	v.PrivPassword = mask(v.PrivPassword)
	return v
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "********"
}

func (d TargetDefaults) validate(field string) error {
	t := Target{Name: "defaults", Address: "defaults"}
	_, err := t.resolve(d)
	if err != nil {
		return fmt.Errorf("%s.%w", field, err)
	}
	return nil
}

// resolvedTarget is a target with every default applied and validated.
type resolvedTarget struct {
	Name           string
	Address        string
	Port           uint16
	Version        string
	Community      string
	V3             V3Credentials
	Interval       time.Duration
	Timeout        time.Duration
	Retries        int
	MaxRepetitions uint32
	PollTimeout    time.Duration
}

// sameNameHint explains a duplicate name that came from the default.
func sameNameHint(t Target) string {
	if t.Name != "" {
		return ""
	}
	return " (the default name; give each target on one address a name)"
}

// defaultName is the address, with the port when it is not SNMP's and
// the SNMPv3 context: two targets reached through one address (a proxy,
// NAT, virtual contexts of a chassis) get two names.
func (r resolvedTarget) defaultName() string {
	name := r.Address
	if r.Port != 161 {
		name = net.JoinHostPort(r.Address, strconv.Itoa(int(r.Port)))
	}
	if r.Version == "3" && r.V3.ContextName != "" {
		name += "/" + r.V3.ContextName
	}
	return name
}

// resolve applies the defaults and checks the result; errors start with
// the field name (without the target's prefix).
func (t Target) resolve(d TargetDefaults) (resolvedTarget, error) {
	r := resolvedTarget{
		Name: t.Name, Address: strings.TrimSpace(t.Address), Port: t.Port, Version: t.Version,
		Community: t.Community, V3: d.V3, Interval: t.Interval, Timeout: t.Timeout,
		Retries: d.Retries, MaxRepetitions: d.MaxRepetitions, PollTimeout: t.PollTimeout,
	}
	if r.Port == 0 {
		r.Port = d.Port
	}
	if r.Version == "" {
		r.Version = d.Version
	}
	if r.Community == "" {
		r.Community = d.Community
	}
	if t.V3 != nil {
		r.V3 = *t.V3
	}
	if r.Interval == 0 {
		r.Interval = d.Interval
	}
	if r.Timeout == 0 {
		r.Timeout = d.Timeout
	}
	if r.PollTimeout == 0 {
		r.PollTimeout = d.PollTimeout
	}
	if t.Retries != nil {
		r.Retries = *t.Retries
	}
	if t.MaxRepetitions != nil {
		r.MaxRepetitions = *t.MaxRepetitions
	}
	if r.Name == "" {
		r.Name = r.defaultName()
	}
	switch {
	case r.Address == "":
		return r, errors.New("address: missing")
	case strings.ContainsAny(r.Address, " /"), strings.Contains(r.Address, ":") && net.ParseIP(r.Address) == nil:
		return r, fmt.Errorf("address: %q is not a host name or IP (give the port in port)", r.Address)
	case r.Port == 0:
		return r, errors.New("port: missing")
	case r.Interval < time.Second:
		return r, fmt.Errorf("interval: %s is below 1s", r.Interval)
	case r.Timeout <= 0:
		return r, errors.New("timeout: must be positive")
	case r.PollTimeout < r.Timeout:
		return r, fmt.Errorf("poll_timeout: %s is below the timeout of one request (%s)", r.PollTimeout, r.Timeout)
	case r.Retries < 0 || r.Retries > 10:
		return r, fmt.Errorf("retries: %d is not within 0..10", r.Retries)
	case r.MaxRepetitions > 1000:
		return r, fmt.Errorf("max_repetitions: %d is above 1000", r.MaxRepetitions)
	}
	switch r.Version {
	case "1", "2c":
		if r.Community == "" {
			return r, errors.New("community: missing")
		}
	case "3":
		if err := r.V3.validate(); err != nil {
			return r, fmt.Errorf("v3.%w", err)
		}
	default:
		return r, fmt.Errorf("version: %q is not 1, 2c or 3", r.Version)
	}
	return r, nil
}

func (v V3Credentials) validate() error {
	if v.User == "" {
		return errors.New("user: missing")
	}
	if _, err := authProtocol(v.AuthProtocol); err != nil {
		return fmt.Errorf("auth_protocol: %w", err)
	}
	if _, err := privProtocol(v.PrivProtocol); err != nil {
		return fmt.Errorf("priv_protocol: %w", err)
	}
	if v.AuthProtocol == "" && v.PrivProtocol != "" {
		return errors.New("priv_protocol: privacy needs an auth_protocol")
	}
	// RFC 3414 §11.2: passwords shorter than 8 characters are refused by
	// agents, so fail at startup rather than at every poll.
	if v.AuthProtocol != "" && len(v.AuthPassword) < 8 {
		return errors.New("auth_password: must be at least 8 characters")
	}
	if v.PrivProtocol != "" && len(v.PrivPassword) < 8 {
		return errors.New("priv_password: must be at least 8 characters")
	}
	return nil
}
