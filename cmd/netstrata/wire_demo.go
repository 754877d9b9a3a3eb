package main

import "github.com/netstrata/netstrata/cmd/netstrata/demo"

func init() {
	commands["demo"] = command{
		help: `Runs the whole pipeline on this machine around a lab of network namespaces
(make demo); "demo sender" and "demo sink" are its traffic generator's
processes.`,
		run: demo.Main,
	}
}
