"""Shared test configuration: hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` runs more examples, derandomised (a green run is reproducible) and
prints the blob that replays a failure; the default ``dev`` profile is fast.
"""

import os

from hypothesis import settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
