package api

// consoleRoutes are the endpoints added for the web console.
func (c *Component) consoleRoutes() []route {
	return append(c.filterRoutes(), c.exploreRoute(), c.interfacesSummaryRoute(), c.statusRoute())
}
