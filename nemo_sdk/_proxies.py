"""The forward proxy for a URL, from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``.

aiohttp's ``trust_env`` would do this, but it also sends ``~/.netrc`` credentials as
Basic auth on every request that has none (to the CDN host too), and a netrc entry
for the API's host (or a ``default`` line) clashes with the bearer header. So the
proxy is chosen here, per request (the environment is read each time, as aiohttp
and requests do), and passed to aiohttp as ``proxy=``.
"""

from __future__ import annotations

import urllib.request

import aiohttp
from yarl import URL

NO_PROXY: tuple[None, None] = (None, None)


def proxy_for(url: URL) -> tuple[URL | None, dict[str, str] | None]:
    """The proxy the environment names for ``url`` and the headers for it, else ``None``s."""
    raw = urllib.request.getproxies().get(url.scheme or "")
    if not raw or url.host is None or urllib.request.proxy_bypass(url.host):
        return NO_PROXY
    proxy = URL(raw if "://" in raw else f"http://{raw}")
    # Credentials in the proxy URL go to the proxy only, as Proxy-Authorization.
    auth = aiohttp.BasicAuth.from_url(proxy)
    headers = {"Proxy-Authorization": auth.encode()} if auth is not None else None
    return proxy.with_user(None), headers
