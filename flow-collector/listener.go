package flowcollector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// socket is one SO_REUSEPORT UDP socket of a listen address; the kernel
// spreads datagrams over a listen address's sockets by source address
// and port, so one exporter's datagrams stay in order on one socket.
type socket struct {
	listen  string // configured address
	kind    listenerKind
	conn    *net.UDPConn
	inode   uint64 // to find its drop counter in /proc/net/udp
	granted int    // receive buffer the kernel granted
}

// openSockets binds n sockets to addr with SO_REUSEPORT. Port 0 picks a
// port for the first socket and binds the others to the same one.
func openSockets(addr string, kind listenerKind, n, rcvbuf int) ([]*socket, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	var out []*socket
	bind := addr
	for i := 0; i < n; i++ {
		pc, err := lc.ListenPacket(context.Background(), "udp", bind)
		if err != nil {
			for _, s := range out {
				s.conn.Close()
			}
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		conn := pc.(*net.UDPConn)
		if i == 0 {
			bind = conn.LocalAddr().String()
		}
		s := &socket{listen: addr, kind: kind, conn: conn}
		s.granted = setReceiveBuffer(conn, rcvbuf)
		s.inode = socketInode(conn)
		out = append(out, s)
	}
	return out, nil
}

// setReceiveBuffer asks for rcvbuf bytes: SO_RCVBUFFORCE (which root may
// use beyond net.core.rmem_max) first, then SO_RCVBUF. It returns what the
// kernel granted (the kernel reports double the usable size; halved here).
func setReceiveBuffer(conn *net.UDPConn, rcvbuf int) int {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0
	}
	granted := 0
	_ = raw.Control(func(fd uintptr) {
		if rcvbuf > 0 {
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
			}
		}
		if v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil {
			granted = v / 2
		}
	})
	return granted
}

func socketInode(conn *net.UDPConn) uint64 {
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0
	}
	var ino uint64
	_ = raw.Control(func(fd uintptr) {
		var st unix.Stat_t
		if unix.Fstat(int(fd), &st) == nil {
			ino = st.Ino
		}
	})
	return ino
}

// kernelDrops reads the drop counters of the given socket inodes from
// /proc/net/udp and /proc/net/udp6 (the last column).
func kernelDrops(inodes map[uint64]bool) (map[uint64]uint64, error) {
	out := map[uint64]uint64{}
	var errs []error
	for _, path := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 13 {
				continue
			}
			ino, err := strconv.ParseUint(fields[9], 10, 64)
			if err != nil || !inodes[ino] {
				continue
			}
			drops, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
			if err == nil {
				out[ino] = drops
			}
		}
		f.Close()
	}
	if len(errs) == 2 {
		return nil, fmt.Errorf("read socket drops: %w", errors.Join(errs...))
	}
	return out, nil
}
