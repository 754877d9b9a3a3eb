package flowcollector

import (
	"fmt"
	"strconv"
	"strings"
)

// IP protocol numbers the classifier and the decoders name.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// ianaApplications is the default service map (IANA service names, plus a
// few ubiquitous unregistered ones), keyed "proto/port".
var ianaApplications = map[string]string{
	"tcp/20": "ftp-data", "tcp/21": "ftp", "tcp/22": "ssh", "tcp/23": "telnet",
	"tcp/25": "smtp", "tcp/53": "dns", "udp/53": "dns", "udp/67": "dhcp", "udp/68": "dhcp",
	"udp/69": "tftp", "tcp/80": "http", "tcp/88": "kerberos", "udp/88": "kerberos",
	"tcp/110": "pop3", "udp/123": "ntp", "tcp/135": "msrpc", "udp/137": "netbios",
	"udp/138": "netbios", "tcp/139": "netbios", "tcp/143": "imap", "udp/161": "snmp",
	"udp/162": "snmptrap", "tcp/179": "bgp", "tcp/389": "ldap", "udp/389": "ldap",
	"tcp/443": "https", "udp/443": "https", "tcp/445": "microsoft-ds", "tcp/465": "smtps",
	"udp/500": "isakmp", "udp/514": "syslog", "tcp/514": "shell", "tcp/515": "printer",
	"tcp/587": "submission", "tcp/631": "ipp", "tcp/636": "ldaps", "tcp/853": "dns-over-tls",
	"udp/853": "dns-over-quic", "tcp/873": "rsync", "tcp/993": "imaps", "tcp/995": "pop3s",
	"udp/1194": "openvpn", "tcp/1433": "mssql", "tcp/1521": "oracle", "udp/1812": "radius",
	"udp/1813": "radius-acct", "tcp/1883": "mqtt", "tcp/2049": "nfs", "udp/2049": "nfs",
	"udp/2055": "netflow", "tcp/2181": "zookeeper", "tcp/2379": "etcd", "tcp/2380": "etcd",
	"tcp/3260": "iscsi", "tcp/3306": "mysql", "tcp/3389": "rdp", "udp/3478": "stun",
	"udp/4500": "ipsec-nat-t", "udp/4739": "ipfix", "udp/4789": "vxlan", "tcp/5060": "sip",
	"udp/5060": "sip", "tcp/5061": "sips", "tcp/5432": "postgresql", "udp/5353": "mdns",
	"tcp/5671": "amqps", "tcp/5672": "amqp", "tcp/5900": "vnc", "tcp/6379": "redis",
	"udp/6343": "sflow", "tcp/6443": "kubernetes-api", "udp/6081": "geneve",
	"tcp/8080": "http-alt", "tcp/8443": "https-alt", "tcp/9092": "kafka", "tcp/9093": "kafka",
	"tcp/9200": "elasticsearch", "tcp/9300": "elasticsearch", "tcp/9418": "git",
	"tcp/10250": "kubelet", "tcp/11211": "memcache", "udp/11211": "memcache",
	"tcp/27017": "mongodb", "udp/51820": "wireguard",
}

// protocolApplications names protocols without ports.
var protocolApplications = map[uint8]string{
	protoICMP: "icmp", 2: "igmp", 47: "gre", 50: "esp", 51: "ah", protoICMPv6: "ipv6-icmp",
	89: "ospf", 103: "pim", 112: "vrrp",
}

// classifier maps protocol + ports to an application name. It is
// read-only after construction and shared by every worker.
type classifier struct {
	names []string
	tcp   [65536]uint16 // index into names, 0: none
	udp   [65536]uint16
	other map[uint32]string // proto<<16 | port, for SCTP and the like
	any   map[uint16]string // "any/port" entries
	proto [256]string
}

// newClassifier builds the IANA defaults overlaid with the user map.
func newClassifier(user map[string]string) (*classifier, error) {
	c := &classifier{names: []string{""}, other: map[uint32]string{}, any: map[uint16]string{}}
	index := map[string]uint16{}
	add := func(key, name string) error {
		proto, port, err := parseAppKey(key)
		if err != nil {
			return fmt.Errorf("application %q: %w", key, err)
		}
		switch proto {
		case -1:
			c.any[port] = name
			return nil
		case protoTCP, protoUDP:
		default:
			c.other[uint32(proto)<<16|uint32(port)] = name
			return nil
		}
		i, ok := index[name]
		if !ok {
			i = uint16(len(c.names))
			c.names = append(c.names, name)
			index[name] = i
		}
		if proto == protoTCP {
			c.tcp[port] = i
		} else {
			c.udp[port] = i
		}
		return nil
	}
	for k, v := range ianaApplications {
		if err := add(k, v); err != nil {
			return nil, err
		}
	}
	for k, v := range user {
		if err := add(k, strings.TrimSpace(v)); err != nil {
			return nil, err
		}
	}
	for p, n := range protocolApplications {
		c.proto[p] = n
	}
	return c, nil
}

// parseAppKey parses "tcp/443", "udp/53", "132/2905" or "any/9000";
// proto -1 means any protocol.
func parseAppKey(key string) (proto int, port uint16, err error) {
	ps, ports, ok := strings.Cut(strings.ToLower(strings.TrimSpace(key)), "/")
	if !ok {
		return 0, 0, fmt.Errorf("want protocol/port such as tcp/443")
	}
	switch ps {
	case "tcp":
		proto = protoTCP
	case "udp":
		proto = protoUDP
	case "sctp":
		proto = protoSCTP
	case "any":
		proto = -1
	default:
		n, err := strconv.ParseUint(ps, 10, 8)
		if err != nil {
			return 0, 0, fmt.Errorf("protocol %q is not tcp, udp, sctp, any or a number", ps)
		}
		proto = int(n)
	}
	n, err := strconv.ParseUint(ports, 10, 16)
	if err != nil {
		return 0, 0, fmt.Errorf("port %q is not 0-65535", ports)
	}
	return proto, uint16(n), nil
}

// lookup returns the name of one side's port, "" when unknown.
func (c *classifier) lookup(proto uint8, port uint16) string {
	var name string
	switch proto {
	case protoTCP:
		name = c.names[c.tcp[port]]
	case protoUDP:
		name = c.names[c.udp[port]]
	default:
		if len(c.other) > 0 {
			name = c.other[uint32(proto)<<16|uint32(port)]
		}
	}
	if name == "" && len(c.any) > 0 {
		name = c.any[port]
	}
	return name
}

// Classify names the application of a flow. The well-known side decides:
// a known port wins over an unknown one, and of two known ports the lower
// one (the service, not the ephemeral client port).
func (c *classifier) Classify(proto uint8, srcPort, dstPort uint16) string {
	if n := c.proto[proto]; n != "" {
		return n
	}
	if proto != protoTCP && proto != protoUDP && proto != protoSCTP && len(c.other) == 0 && len(c.any) == 0 {
		return ""
	}
	lo, hi := srcPort, dstPort
	if hi < lo {
		lo, hi = hi, lo
	}
	if n := c.lookup(proto, lo); n != "" {
		return n
	}
	return c.lookup(proto, hi)
}
