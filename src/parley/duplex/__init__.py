"""Floor control: endpointing, barge-in, playout of agent speech (what the user heard)."""
