package npmagent

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// attributor maps a socket's cgroup (or, failing that, its process) to a
// container id and pod uid.
type attributor struct {
	cgroupRoot string // cgroup v2 mount, "" when there is none
	procRoot   string
	podOf      func(containerID string) string // nil outside Kubernetes

	mu        sync.Mutex
	paths     map[uint64]string // cgroup id (inode) -> path below the root
	lastWalk  time.Time
	minRewalk time.Duration
	cache     map[uint64]attribution // by cgroup id
}

type attribution struct{ containerID, podUID string }

const maxCgroupCache = 65536

func newAttributor(cgroupRoot, procRoot string) *attributor {
	if cgroupRoot == "" {
		cgroupRoot = findCgroup2Mount(filepath.Join(procRoot, "self/mountinfo"))
	}
	return &attributor{cgroupRoot: cgroupRoot, procRoot: procRoot, paths: map[uint64]string{},
		cache: map[uint64]attribution{}, minRewalk: 5 * time.Second}
}

// findCgroup2Mount returns the first cgroup2 mount point in mountinfo:
// /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones.
func findCgroup2Mount(mountinfo string) string {
	f, err := os.Open(mountinfo)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ... - fstype source superopts
		fields := strings.Fields(sc.Text())
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
				return fields[4]
			}
		}
	}
	return ""
}

// attribute returns the container and pod of a socket.
func (a *attributor) attribute(pid uint32, cgroupID uint64) (string, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if cgroupID != 0 {
		if at, ok := a.cache[cgroupID]; ok {
			return a.withPod(at)
		}
		path, ok := a.paths[cgroupID]
		if !ok && time.Since(a.lastWalk) >= a.minRewalk {
			a.walk()
			path, ok = a.paths[cgroupID]
		}
		if ok {
			cid, uid := parseCgroupPath(path)
			at := attribution{cid, uid}
			a.remember(cgroupID, at)
			return a.withPod(at)
		}
	}
	if pid != 0 {
		b, err := os.ReadFile(filepath.Join(a.procRoot, strconv.FormatUint(uint64(pid), 10), "cgroup"))
		if err == nil {
			cid, uid := parseCgroupPath(cgroupV2Path(string(b)))
			return a.withPod(attribution{cid, uid})
		}
	}
	return "", ""
}

func (a *attributor) remember(id uint64, at attribution) {
	if len(a.cache) >= maxCgroupCache {
		clear(a.cache)
	}
	a.cache[id] = at
}

// withPod fills the pod uid from the container id when the path had none.
func (a *attributor) withPod(at attribution) (string, string) {
	if at.podUID == "" && at.containerID != "" && a.podOf != nil {
		at.podUID = a.podOf(at.containerID)
	}
	return at.containerID, at.podUID
}

// walk indexes every cgroup directory by inode, which is the cgroup id
// the kernel gives the programs.
func (a *attributor) walk() {
	a.lastWalk = time.Now()
	if a.cgroupRoot == "" {
		return
	}
	paths := make(map[uint64]string, len(a.paths))
	_ = filepath.WalkDir(a.cgroupRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil //nolint:nilerr // a cgroup removed during the walk is not an error
		}
		info, err := d.Info()
		if err != nil {
			return nil //nolint:nilerr
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			rel := strings.TrimPrefix(p, a.cgroupRoot)
			if rel == "" {
				rel = "/"
			}
			paths[st.Ino] = rel
		}
		return nil
	})
	a.paths = paths
}
