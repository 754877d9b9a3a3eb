package api

// missingNote says why a layer has no rows for an investigation: what
// the data shows, and the reason the layer is off when this process
// knows it (a component that could not start).
func (c *Component) missingNote(layer string, sc *scope) string {
	note := layerMissingNote(layer, sc)
	if c.deps.LayersOff == nil {
		return note
	}
	if why, ok := c.deps.LayersOff()[layer]; ok {
		note += ": " + why
	}
	return note
}
