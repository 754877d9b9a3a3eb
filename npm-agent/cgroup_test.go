package npmagent

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestAttributorResolvesCgroupIDsByInode builds a cgroup-like tree: the
// kernel's cgroup id is the directory's inode.
func TestAttributorResolvesCgroupIDsByInode(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "kubepods", "burstable", "pod8d7a2b3c-1111-4222-8333-944455556666", testID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	a := newAttributor(root, t.TempDir())
	cid, pod := a.attribute(0, ino)
	if cid != testID || pod != "8d7a2b3c-1111-4222-8333-944455556666" {
		t.Errorf("got %q %q", cid, pod)
	}
	// Unknown ids do not rewalk the tree more than once per minRewalk.
	walked := a.lastWalk
	a.attribute(0, ino+1_000_000)
	if a.lastWalk != walked {
		t.Error("rewalked within minRewalk")
	}
}

func TestAttributorFallsBackToTheProcessCgroupAndPodIndex(t *testing.T) {
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "4242"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "4242", "cgroup"), []byte("0::/system.slice/docker-"+testID+".scope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := newAttributor(t.TempDir(), proc)
	a.podOf = func(id string) string {
		if id == testID {
			return "uid-1"
		}
		return ""
	}
	if cid, pod := a.attribute(4242, 0); cid != testID || pod != "uid-1" {
		t.Errorf("got %q %q", cid, pod)
	}
	if cid, pod := a.attribute(4243, 0); cid != "" || pod != "" {
		t.Errorf("unknown pid: %q %q", cid, pod)
	}
}

func TestFindCgroup2MountReadsMountinfo(t *testing.T) {
	f := filepath.Join(t.TempDir(), "mountinfo")
	data := "30 25 0:26 / /sys/fs/cgroup ro - tmpfs tmpfs ro\n" +
		"35 30 0:31 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n"
	if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := findCgroup2Mount(f); got != "/sys/fs/cgroup/unified" {
		t.Errorf("got %q", got)
	}
}
