import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100, database=None)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

np.set_printoptions(precision=6, suppress=False)
