package npmagent

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/netstrata/netstrata/internal/record"
)

// Container runtimes name a container's cgroup after its 64-hex id:
//
//	containerd, systemd driver: .../kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope
//	containerd, cgroupfs:       /kubepods/burstable/pod<uid>/<id>
//	CRI-O, systemd driver:      .../kubepods-pod<uid>.slice/crio-<id>.scope (crio-conmon-<id> is its monitor)
//	docker:                     /docker/<id>, /system.slice/docker-<id>.scope
//	podman:                     /machine.slice/libpod-<id>.scope
var (
	scopeID     = regexp.MustCompile(`^(?:cri-containerd|crio|docker|libpod|containerd)-([0-9a-f]{64})\.scope$`)
	bareID      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	podCgroupfs = regexp.MustCompile(`^pod([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	podSystemd  = regexp.MustCompile(`^kubepods(?:-[a-z]+)?-pod([0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12})\.slice$`)
)

// parseCgroupPath finds the container id and the Kubernetes pod uid in a
// cgroup v2 path; either is "" when the path does not carry it. The
// innermost container wins (containers nest in docker-in-docker).
func parseCgroupPath(path string) (containerID, podUID string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if containerID == "" {
			if m := scopeID.FindStringSubmatch(p); m != nil {
				containerID = m[1]
			} else if bareID.MatchString(p) {
				containerID = p
			}
		}
		if podUID == "" {
			if m := podCgroupfs.FindStringSubmatch(p); m != nil {
				podUID = m[1]
			} else if m := podSystemd.FindStringSubmatch(p); m != nil {
				podUID = strings.ReplaceAll(m[1], "_", "-")
			}
		}
	}
	return containerID, podUID
}

// cgroupV2Path returns the cgroup v2 path of a /proc/<pid>/cgroup file
// ("0::/path"), or "" when the process has none.
func cgroupV2Path(procCgroup string) string {
	for line := range strings.Lines(procCgroup) {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// containerIDFromRuntime strips the runtime prefix of a Kubernetes
// containerStatus.containerID ("containerd://<id>", "cri-o://<id>").
func containerIDFromRuntime(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		return s[i+3:]
	}
	return s
}

// parseAddr parses an IP of the Kubernetes API into the record form.
func parseAddr(s string) ([]byte, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil, err
	}
	return record.IPBytes(a), nil
}
