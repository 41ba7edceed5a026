"""The offline NemoVideo service: a real aiohttp server for tests and offline use.

The core (tokens, sessions, credits, state, faults) needs only aiohttp; media
generation and rendering need the ``emulator`` extra (av, numpy, pillow).
"""

from .faults import Fault, FaultInjector
from .knobs import Knobs
from .server import Emulator

__all__ = ["Emulator", "Fault", "FaultInjector", "Knobs"]
