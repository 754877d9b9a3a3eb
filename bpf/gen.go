// Package bpf holds netstrata's eBPF programs (CO-RE C, compiled once by
// clang through bpf2go) and their generated Go loaders. The compiled
// objects are committed so that building netstrata needs no clang;
// `make generate` rebuilds them.
package bpf

//go:generate bash ../scripts/gen-vmlinux.sh
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel -type sock_record -type sock_meta -type owner -type listen_key Npm src/npm.bpf.c
