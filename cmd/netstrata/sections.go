package main

// componentSections holds one YAML section per component.
type componentSections struct{}

func defaultComponentSections() componentSections { return componentSections{} }

// fillComponentPaths puts component state under data_dir when unset.
func (c *Config) fillComponentPaths() {}

func (c *Config) validateComponents() []error { return nil }

func (c *Config) maskSecrets() {}
