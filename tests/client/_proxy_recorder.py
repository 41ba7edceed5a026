"""A proxy.py plugin that records each request it forwards, one JSON line each.

Loaded by the proxy subprocess of ``test_proxy.py`` (``--plugins``); the file is the
``NEMO_PROXY_LOG`` environment variable. It records whether an ``Authorization``
header passed through the proxy in the clear, never the header's value.
"""

from __future__ import annotations

import json
import os
from typing import Any

from proxy.http.parser import HttpParser
from proxy.http.proxy import HttpProxyBasePlugin


class RecordRequests(HttpProxyBasePlugin):
    """Append ``{"method", "host", "port", "authorization"}`` per request to the log."""

    def handle_client_request(self, request: HttpParser) -> HttpParser | None:
        line: dict[str, Any] = {
            "method": (request.method or b"").decode(),
            "host": (request.host or b"").decode(),
            "port": request.port,
            "path": (request.path or b"").decode(errors="replace"),
            "authorization": request.has_header(b"authorization"),
            "proxy_authorization": request.has_header(b"proxy-authorization"),
        }
        with open(os.environ["NEMO_PROXY_LOG"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")
        return request
