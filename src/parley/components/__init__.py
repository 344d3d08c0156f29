"""Model components: small Protocols and real backends, one file per backend."""
