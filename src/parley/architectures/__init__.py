"""Speech-to-speech architectures behind one duplex interface."""
