"""The emulator's upload, render and file routes, driven with raw aiohttp (no SDK)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from nemo_sdk.emulator import Emulator

from .conftest import ready_render, seed_draft

ATTRIBUTION = {"X-Skill-Source": "test", "X-Skill-Version": "1", "X-Skill-Platform": "unknown"}


async def login(http: aiohttp.ClientSession, emu: Emulator) -> tuple[dict[str, str], str]:
    async with http.post(
        f"{emu.url}/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())}
    ) as resp:
        token = (await resp.json())["data"]["token"]
    headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
    async with http.post(
        f"{emu.url}/api/tasks/me/with-session/nemo_agent", json={"task_name": "p"}, headers=headers
    ) as resp:
        sid = (await resp.json())["data"]["session_id"]
    return headers, sid


def export_body(sid: str, rid: str | None = None) -> dict[str, Any]:
    return {"id": rid or f"render_{uuid.uuid4().hex}", "sessionId": sid, "draft": seed_draft()}


async def test_export_without_attribution_headers_is_402(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        headers, sid = await login(http, emulator)
        bare = {"Authorization": headers["Authorization"]}
        url = f"{emulator.url}/api/render/proxy/lambda"
        async with http.post(url, json=export_body(sid), headers=bare) as resp:
            assert resp.status == 402
            assert "attribution" in (await resp.json())["message"]
        assert emulator.renders == {}


async def test_render_state_machine_and_duplicate_id(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        headers, sid = await login(http, emulator)
        body = export_body(sid)
        url = f"{emulator.url}/api/render/proxy/lambda"
        async with http.post(url, json=body, headers=headers) as resp:
            doc = await resp.json()
        assert doc == {
            "success": True,
            "data": {"id": body["id"], "status": "pending", "progress": 0},
        }
        async with http.post(url, json=body, headers=headers) as resp:
            assert resp.status == 409
            assert (await resp.json())["success"] is False
        statuses, shapes = [], set()
        for _ in range(400):
            async with http.get(f"{url}/{body['id']}", headers=headers) as resp:
                doc = await resp.json()
            top = "status" in doc
            shapes.add(top)
            status = doc["status"] if top else doc["data"]["status"]
            if not statuses or statuses[-1] != status:
                statuses.append(status)
            if status == "completed":
                data = doc["data"]
                assert (data["output"]["url"] if top else data["outputUrl"]).endswith(".mp4")
                break
            await asyncio.sleep(0.01)
        # The export answer said pending; the first poll may already see processing.
        assert statuses in (["pending", "processing", "completed"], ["processing", "completed"])
        assert shapes == {True, False}  # the answer alternates between both documented shapes


async def test_file_routes_range_and_token_rule(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as http:
        headers, sid = await login(http, emulator)
        rid, body = ready_render(emulator, sid, size=100_000)
        cdn = emulator.renders[rid].output_url
        assert cdn is not None and cdn.startswith(emulator.cdn_url)
        async with http.get(cdn, headers={"Authorization": headers["Authorization"]}) as resp:
            assert resp.status == 403  # the CDN refuses anything carrying the token
        async with http.get(cdn, headers={"Range": "bytes=1000-"}) as resp:
            assert resp.status == 206
            assert resp.headers["Content-Range"] == f"bytes 1000-{len(body) - 1}/{len(body)}"
            assert await resp.read() == body[1000:]
        async with http.get(cdn, headers={"Range": f"bytes={len(body)}-"}) as resp:
            assert resp.status == 416
        fallback = f"{emulator.url}/api/render/proxy/{rid}/download"
        async with http.get(fallback) as resp:
            assert (await resp.json())["code"] == 1001  # the fallback needs the bearer token
        async with http.get(fallback, headers={**headers, "Range": "bytes=10-19"}) as resp:
            assert resp.status == 206 and await resp.read() == body[10:20]


@pytest.mark.parametrize("route", ["cdn", "download"])
async def test_truncate_fault_promises_more_than_it_sends(emulator: Emulator, route: str) -> None:
    async with aiohttp.ClientSession() as http:
        headers, sid = await login(http, emulator)
        rid, body = ready_render(emulator, sid, size=200_000)
        url = emulator.renders[rid].output_url if route == "cdn" else (
            f"{emulator.url}/api/render/proxy/{rid}/download"
        )  # fmt: skip
        assert url is not None
        emulator.faults.add(route, "truncate")
        async with http.get(url, headers={} if route == "cdn" else headers) as resp:
            assert resp.content_length == len(body)
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.read()


async def test_streaming_upload_and_url_rule(emulator: Emulator, media: dict[str, Path]) -> None:
    async with aiohttp.ClientSession() as http:
        headers, sid = await login(http, emulator)
        url = f"{emulator.url}/api/upload-video/nemo_agent/me/{sid}"
        form = aiohttp.FormData()
        with open(media["clip"], "rb") as fh:  # noqa: ASYNC230 - a local test file
            form.add_field("files", fh, filename="clip.mp4", content_type="video/mp4")
            async with http.post(url, data=form, headers=headers) as resp:
                (entry,) = (await resp.json())["data"]["files"]
        stored = list((emulator.data_dir / "uploads").iterdir())
        assert len(stored) == 1 and stored[0].read_bytes() == media["clip"].read_bytes()
        assert entry["file_type"] == "video" and entry["cdn_url"].startswith(emulator.cdn_url)
        form = aiohttp.FormData()
        form.add_field("files", b"not media", filename="fake.mp4", content_type="video/mp4")
        async with http.post(url, data=form, headers=headers) as resp:
            assert (await resp.json())["code"] == 4001
        outside = {"urls": ["http://example.com/a.mp4"], "source_type": "url"}
        async with http.post(url, json=outside, headers=headers) as resp:
            assert "outside network" in (await resp.json())["message"]
        assert len(list((emulator.data_dir / "uploads").iterdir())) == 1
