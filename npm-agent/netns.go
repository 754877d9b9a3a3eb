package npmagent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// netnsWalker opens an iterator in every network namespace of the node.
// iter/tcp walks the namespace of the thread that opens it, so the walker
// finds the namespaces (one path per namespace inode: a process's
// ns/net, or a name under /run/netns) and opens the iterator from a
// thread that joined each. No namespace is held open between walks: that
// would keep a deleted namespace, and its sockets, alive.
type netnsWalker struct {
	procRoot  string
	namedDirs []string // bind-mounted namespaces (ip netns, CNI)
	self      uint64   // the agent's own namespace: opened without setns
	walked    int      // namespaces walked by the last call
	failed    int      // namespaces that vanished or could not be entered
}

func newNetnsWalker(procRoot string) *netnsWalker {
	w := &netnsWalker{procRoot: procRoot, namedDirs: []string{"/run/netns", "/var/run/netns"}}
	w.self, _ = nsInode(filepath.Join(procRoot, "thread-self/ns/net"))
	if w.self == 0 {
		w.self, _ = nsInode("/proc/thread-self/ns/net")
	}
	return w
}

// nsInode reads the inode of the namespace at path from its link text
// ("net:[4026531840]"), or by stat for a bind mount.
func nsInode(path string) (uint64, error) {
	if s, err := os.Readlink(path); err == nil {
		if i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']'); i >= 0 && j > i {
			return strconv.ParseUint(s[i+1:j], 10, 64)
		}
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// namespaces maps each namespace inode to a path that opens it.
func (w *netnsWalker) namespaces() map[uint64]string {
	out := map[uint64]string{}
	entries, _ := os.ReadDir(w.procRoot)
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		p := filepath.Join(w.procRoot, e.Name(), "ns/net")
		if ino, err := nsInode(p); err == nil && out[ino] == "" {
			out[ino] = p
		}
	}
	for _, dir := range w.namedDirs {
		names, _ := os.ReadDir(dir)
		for _, n := range names {
			p := filepath.Join(dir, n.Name())
			if ino, err := nsInode(p); err == nil && out[ino] == "" {
				out[ino] = p
			}
		}
	}
	return out
}

// each opens it in every namespace and hands each output to fn. A
// namespace that vanished while walking is skipped and counted; failing
// in the agent's own namespace fails the walk.
func (w *netnsWalker) each(it *link.Iter, fn func(io.Reader) error) error {
	w.walked, w.failed = 0, 0
	var firstErr error
	for ino, path := range w.namespaces() {
		var rc io.ReadCloser
		var err error
		if ino == w.self {
			rc, err = it.Open()
		} else {
			rc, err = openInNetns(path, it.Open)
		}
		if err != nil {
			if firstErr == nil && (ino == w.self || !vanished(err)) {
				firstErr = fmt.Errorf("open iterator in netns %d: %w", ino, err)
			}
			w.failed++
			continue
		}
		err = fn(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("netns %d: %w", ino, err)
		}
		w.walked++
	}
	if w.walked == 0 && firstErr != nil {
		return firstErr
	}
	return nil
}

// vanished: the process or the namespace went away between the listing
// and the open.
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT)
}

// openInNetns calls open on a locked OS thread that joined the namespace
// at path, and brings the thread back before Go may run anything else on
// it. A thread that cannot come back stays locked and exits with its
// goroutine.
func openInNetns(path string, open func() (io.ReadCloser, error)) (io.ReadCloser, error) {
	type result struct {
		rc  io.ReadCloser
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		rc, back, err := joinAndOpen(path, open)
		if back {
			runtime.UnlockOSThread()
		}
		done <- result{rc, err}
	}()
	r := <-done
	return r.rc, r.err
}

// joinAndOpen runs on a locked thread; back reports whether the thread is
// in its own namespace again.
func joinAndOpen(path string, open func() (io.ReadCloser, error)) (rc io.ReadCloser, back bool, err error) {
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, true, fmt.Errorf("open own netns: %w", err)
	}
	defer home.Close()
	target, err := os.Open(path)
	if err != nil {
		return nil, true, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, true, fmt.Errorf("setns %s: %w", path, err)
	}
	rc, err = open()
	if serr := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); serr != nil {
		return rc, false, err
	}
	return rc, true, err
}
