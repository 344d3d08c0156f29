"""parley: full-duplex spoken conversations, and a bench that scores more than latency."""

import os

# llama.cpp and CTranslate2 run their threads on OpenMP, whose threads spin at every barrier by
# default. On two cores shared with any other busy process the spinning threads steal the cores
# the work needs (llama.cpp decoded ~10x slower beside one CPU-bound process). Passive waiting
# sleeps instead. Set before either library loads; an explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
