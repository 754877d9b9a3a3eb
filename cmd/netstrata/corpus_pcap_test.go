package main

import (
	"encoding/binary"
	"fmt"
	"os"
)

// This file reads the datagrams of a corpus entry: the UDP payloads of a
// classic pcap file, in capture order.

// Link types of the captures a corpus entry may hold.
const (
	linkNull     = 0   // BSD loopback: 4-byte address family
	linkEthernet = 1   // Ethernet, 802.1Q/QinQ tags skipped
	linkRaw      = 101 // raw IP
	linkSLL      = 113 // Linux cooked capture
	linkSLL2     = 276 // Linux cooked capture v2
)

// pcapDatagrams returns the UDP payloads of a classic pcap file (either
// byte order, micro- or nanosecond). Non-UDP frames are skipped; an IP
// fragment is an error: replay needs whole datagrams.
func pcapDatagrams(path string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < 24 {
		return nil, fmt.Errorf("%s: not a pcap file", path)
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%s: not a classic pcap file (pcapng? convert with editcap -F pcap)", path)
	}
	link := order.Uint32(data[20:]) & 0xffff
	var out [][]byte
	for off, n := 24, 0; off+16 <= len(data); off += n {
		n = int(order.Uint32(data[off+8:]))
		off += 16
		if off+n > len(data) {
			return nil, fmt.Errorf("%s: frame at byte %d is truncated", path, off)
		}
		payload, err := udpPayload(data[off:off+n], link)
		if err != nil {
			return nil, fmt.Errorf("%s: frame at byte %d: %w", path, off, err)
		}
		if payload != nil {
			out = append(out, payload)
		}
	}
	return out, nil
}

// udpPayload returns the UDP payload of a frame, nil when it holds none.
func udpPayload(f []byte, link uint32) ([]byte, error) {
	ip, err := ipPacket(f, link)
	if err != nil || len(ip) < 20 {
		return nil, err
	}
	var l4 []byte
	switch ip[0] >> 4 {
	case 4:
		ihl := int(ip[0]&0xf) * 4
		if ip[9] != 17 || len(ip) < ihl+8 {
			return nil, nil
		}
		if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			return nil, fmt.Errorf("IPv4 fragment")
		}
		l4 = ip[ihl:]
	case 6:
		if len(ip) < 48 || ip[6] != 17 { // extension headers (a fragment) are not replayed
			return nil, nil
		}
		l4 = ip[40:]
	default:
		return nil, nil
	}
	end := int(binary.BigEndian.Uint16(l4[4:]))
	if end < 8 || end > len(l4) {
		return nil, fmt.Errorf("UDP length %d with %d bytes captured", end, len(l4))
	}
	return l4[8:end], nil
}

// ipPacket strips the link layer of a frame.
func ipPacket(f []byte, link uint32) ([]byte, error) {
	switch link {
	case linkRaw:
		return f, nil
	case linkNull:
		if len(f) < 4 {
			return nil, nil
		}
		return f[4:], nil
	case linkSLL:
		if len(f) < 16 {
			return nil, nil
		}
		return etherPayload(f[14:16], f[16:]), nil
	case linkSLL2:
		if len(f) < 20 {
			return nil, nil
		}
		return etherPayload(f[0:2], f[20:]), nil
	case linkEthernet:
		if len(f) < 14 {
			return nil, nil
		}
		return etherPayload(f[12:14], f[14:]), nil
	}
	return nil, fmt.Errorf("link type %d is not supported (Ethernet, raw IP, Linux cooked, BSD loopback are)", link)
}

// etherPayload returns the IP packet after an EtherType, skipping VLAN
// tags; nil for anything but IP.
func etherPayload(etype, rest []byte) []byte {
	t := binary.BigEndian.Uint16(etype)
	for (t == 0x8100 || t == 0x88a8) && len(rest) >= 4 {
		t, rest = binary.BigEndian.Uint16(rest[2:]), rest[4:]
	}
	if t != 0x0800 && t != 0x86dd {
		return nil
	}
	return rest
}
