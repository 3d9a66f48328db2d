import atexit
import os
import shutil
import tempfile

os.environ.setdefault("MPLBACKEND", "Agg")
# Compiled kernels go to a fresh directory, never to the user's ~/.cache/symgd (tests stay hermetic).
if "SYMGD_CACHE_DIR" not in os.environ:
    os.environ["SYMGD_CACHE_DIR"] = tempfile.mkdtemp(prefix="symgd-cache-")
    atexit.register(shutil.rmtree, os.environ["SYMGD_CACHE_DIR"], True)

import numpy as np  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=100, database=None)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

np.set_printoptions(precision=6, suppress=False)
