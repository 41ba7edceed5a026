"""The request pipeline, one module a layer: the only client code of the SDK that uses aiohttp.

* :mod:`.pool`: the aiohttp session (pool limits, proxies, its event loop);
* :mod:`.send`: one attempt with aiohttp's own timeouts, and the observation seam;
* :mod:`.response`: the SDK's :class:`Response`, whose reads map aiohttp's errors;
* :mod:`.credentials`: the API's headers and the bearer token (API origin only);
* :mod:`.retry`: the rules table, applied by one loop;
* :mod:`.transport`: ``answer()`` and ``stream()``, the one pipeline the resources call;
* :mod:`.proxies`, :mod:`.multipart`, :mod:`.stream_log`: what those need.

The envelope decoder (``nemo_sdk._http.envelope``) is pure code and stays outside.
"""

from __future__ import annotations

from .response import Response
from .retry import Sleep
from .transport import ApiPath, Transport, check_id

__all__ = [
    "ApiPath",
    "Response",
    "Sleep",
    "Transport",
    "check_id",
]
