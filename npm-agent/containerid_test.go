package npmagent

import "testing"

func TestParseCgroupPathFindsContainerAndPod(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const uid = "8d7a2b3c-1111-4222-8333-944455556666"
	for _, tc := range []struct {
		name, path, id, pod string
	}{
		{"containerd systemd", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8d7a2b3c_1111_4222_8333_944455556666.slice/cri-containerd-" + id + ".scope", id, uid},
		{"containerd systemd guaranteed", "/kubepods.slice/kubepods-pod8d7a2b3c_1111_4222_8333_944455556666.slice/cri-containerd-" + id + ".scope", id, uid},
		{"containerd cgroupfs", "/kubepods/besteffort/pod" + uid + "/" + id, id, uid},
		{"cri-o systemd", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod8d7a2b3c_1111_4222_8333_944455556666.slice/crio-" + id + ".scope", id, uid},
		{"cri-o conmon is no container", "/kubepods.slice/kubepods-pod8d7a2b3c_1111_4222_8333_944455556666.slice/crio-conmon-" + id + ".scope", "", uid},
		{"docker cgroupfs", "/docker/" + id, id, ""},
		{"docker systemd", "/system.slice/docker-" + id + ".scope", id, ""},
		{"podman", "/machine.slice/libpod-" + id + ".scope/container", id, ""},
		{"pod sandbox level", "/kubepods/burstable/pod" + uid, "", uid},
		{"host service", "/system.slice/sshd.service", "", ""},
		{"root", "/", "", ""},
		{"empty", "", "", ""},
		{"short hex is no id", "/docker/0123abcd", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, pod := parseCgroupPath(tc.path)
			if id != tc.id || pod != tc.pod {
				t.Errorf("parseCgroupPath(%q) = %q, %q; want %q, %q", tc.path, id, pod, tc.id, tc.pod)
			}
		})
	}
}

func TestCgroupV2PathReadsTheUnifiedLine(t *testing.T) {
	in := "12:pids:/docker/abc\n1:name=systemd:/system.slice/x\n0::/kubepods/besteffort/podX/abc\n"
	if got := cgroupV2Path(in); got != "/kubepods/besteffort/podX/abc" {
		t.Errorf("got %q", got)
	}
	if got := cgroupV2Path("4:memory:/x\n"); got != "" {
		t.Errorf("v1-only: got %q", got)
	}
}

func TestContainerIDFromRuntimeStripsTheScheme(t *testing.T) {
	for in, want := range map[string]string{"containerd://abc": "abc", "cri-o://def": "def", "docker://1": "1", "": "", "plain": "plain"} {
		if got := containerIDFromRuntime(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
}

func FuzzParseCgroupPath(f *testing.F) {
	for _, s := range []string{"/", "/docker/x", "/kubepods/burstable/pod8d7a2b3c-1111-4222-8333-944455556666/abc", "a//b///", "\x00/\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		id, pod := parseCgroupPath(path)
		if id != "" && len(id) != 64 {
			t.Fatalf("id %q", id)
		}
		if pod != "" && len(pod) != 36 {
			t.Fatalf("pod %q", pod)
		}
	})
}
