"""The forward proxy for a URL, from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``.

aiohttp's ``trust_env`` would do this, but it also sends ``~/.netrc`` credentials as
Basic auth on every request that has none (to the CDN host too), and a netrc entry
for the API's host (or a ``default`` line) clashes with the bearer header. So the
proxy is chosen here, per request (the environment is read each time, as aiohttp
and requests do), and passed to aiohttp as ``proxy=``. urllib's ``getproxies`` scans
the whole environment (hundreds of microseconds): only the few names are read here,
with its rules (the lower-case name wins; ``HTTP_PROXY`` is ignored under CGI).
"""

from __future__ import annotations

import os
import urllib.request

import aiohttp
from yarl import URL

NO_PROXY: tuple[None, None] = (None, None)


def _env(name: str) -> str | None:
    environ = os.environ
    lower = environ.get(name)
    if lower is not None:
        return lower
    upper = environ.get(name.upper())
    # Asked only when there is an upper-case value: each lookup of a name that is not
    # set costs a KeyError inside os.environ, and this runs on every request.
    if upper is not None and name == "http_proxy" and "REQUEST_METHOD" in environ:
        return None  # httpoxy: under CGI, HTTP_PROXY is a request header, not a setting
    return upper


def proxy_for(url: URL) -> tuple[URL | None, dict[str, str] | None]:
    """The proxy the environment names for ``url`` and the headers for it, else ``None``s."""
    raw = _env(f"{url.scheme}_proxy") if url.scheme in ("http", "https") else None
    if not raw or url.host is None:
        return NO_PROXY
    no_proxy = _env("no_proxy")
    # urllib's NO_PROXY matching (suffixes, ports, ``*``), given the value read above;
    # it is in every CPython 3 but not in typeshed.
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if no_proxy and bypass(url.host, {"no": no_proxy}):
        return NO_PROXY
    proxy = URL(raw if "://" in raw else f"http://{raw}")
    # Credentials in the proxy URL go to the proxy only, as Proxy-Authorization.
    auth = aiohttp.BasicAuth.from_url(proxy)
    headers = {"Proxy-Authorization": auth.encode()} if auth is not None else None
    return proxy.with_user(None), headers
