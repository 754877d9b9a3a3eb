#!/usr/bin/env bash
# Regenerates bpf/src/vmlinux.h from this kernel's BTF with bpftool, trimmed
# to the types bpf/src/npm.bpf.c uses (CO-RE relocates field offsets at
# load time, so the header need not come from the target kernel). Run by
# `make generate` through bpf/gen.go.
set -euo pipefail
cd "$(dirname "$0")/../bpf/src"
full=$(mktemp)
trap 'rm -f "$full"' EXIT
bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$full"
# Structs the program reads through pointers with BPF_CORE_READ need full
# definitions; the rest of what it points to only needs a declaration.
python3 ../../scripts/trim-vmlinux.py "$full" vmlinux.h npm.bpf.c npm.h \
  --typedefs-from /usr/include/bpf/bpf_helper_defs.h \
  --full struct:bpf_iter_meta struct:cgroup struct:net struct:kernfs_node \
  struct:socket struct:file struct:inode struct:bpf_iter__tcp
