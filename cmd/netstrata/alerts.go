package main

import "github.com/netstrata/netstrata/api/client"

func init() {
	commands["alerts"] = command{
		help: "Lists the alerts firing now, or the alert history, from a running API (netstrata alerts --help).",
		run:  apiCLI("alerts", client.RunAlertsCLI),
	}
}
