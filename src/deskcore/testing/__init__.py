"""Testing kit for integrators (P7): fakes, hypothesis strategies and contract suites.

Install with ``pip install deskcore[testing]``. :mod:`deskcore.testing.strategies` and
:mod:`deskcore.testing.contracts` need hypothesis and pytest; :mod:`deskcore.testing.fakes`
needs nothing.
"""

from deskcore.testing.fakes import FixedClock, SequentialIds

__all__ = ["FixedClock", "SequentialIds"]
