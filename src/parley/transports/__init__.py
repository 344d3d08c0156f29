"""Ways audio reaches an agent: simulated loopback, files, a local device."""
