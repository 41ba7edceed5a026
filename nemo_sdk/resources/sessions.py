"""``nemo.sessions``: project sessions and browser links."""

from __future__ import annotations

import re
import weakref

from yarl import URL

from .. import errors
from .._http import Transport, check_id
from .._http.envelope import data_of, reading
from .._http.response_info import attach
from ..models.session import ClaimLink, Session
from ._base import Resource

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")

# Task ids of the sessions this client created: the claim link needs both ids, and the
# API gives no way to look a task id up from a session id.
_TASKS: weakref.WeakKeyDictionary[Transport, dict[str, str]] = weakref.WeakKeyDictionary()


def _task_ids(transport: Transport) -> dict[str, str]:
    return _TASKS.setdefault(transport, {})


class Sessions(Resource):
    """Session calls."""

    async def create(self, *, language: str | None = "en", task_name: str = "project") -> Session:
        """``POST /api/tasks/me/with-session/nemo_agent``: a new session (and its task).

        Args:
            language: an ISO language code (``en``, ``zh-CN``, ``ja``...), or ``None`` to omit it.
        """
        body: dict[str, str] = {"task_name": task_name}
        if language is not None:
            if not _LANGUAGE.fullmatch(language):
                raise errors.InvalidArgumentError(f"language must be an ISO code, got {language!r}")
            body["language"] = language
        doc, info = await self._transport.answer(
            "POST", "/api/tasks/me/with-session/nemo_agent", json=body
        )
        with reading("session"):
            data = dict(data_of(doc))
            if language is not None:
                data.setdefault("language", language)
            session = attach(Session.model_validate(data), info)
        tokens = self._transport.tokens
        if session.user_id and tokens.user_id is None:
            tokens.user_id = session.user_id
        if session.task_id:
            _task_ids(self._transport)[session.id] = session.task_id
        return session

    async def claim_link(
        self, session: Session | str | None = None, *, session_id: str | None = None,
        task_id: str | None = None,
    ) -> ClaimLink:  # fmt: skip
        """A link that opens the session in the web app: ``<web>/workspace/claim?ct=<claim>``.

        ``session`` is a :class:`Session` or a session id; an id made by this client's
        ``sessions.create`` needs no ``task_id``, others do (the API asks for both).
        Uses ``POST /api/auth/claim-token``; the bearer token is never put in a URL.
        """
        if isinstance(session, str):
            session_id, session = session, None
        sid = session.id if session is not None else session_id
        tid = session.task_id if session is not None else task_id
        if sid and not tid:
            tid = _task_ids(self._transport).get(sid)
        if not sid or not tid:
            raise errors.InvalidArgumentError(
                "claim_link needs the session's task_id too: pass the Session that "
                "sessions.create() returned, or session_id= and task_id="
            )
        body = {"task_id": check_id("task id", tid), "session_id": check_id("session id", sid)}
        doc, info = await self._transport.answer("POST", "/api/auth/claim-token", json=body)
        with reading("claim-token"):
            data = data_of(doc)
            claim = data.get("claim_token")
            # A claim token goes into a URL: only a plain string may.
            if not isinstance(claim, str) or not claim:
                raise errors.InvalidResponseError("the claim-token answer had no claim_token")
            web = self._transport.config.web_url
            url = (web / "workspace" / "claim").with_query(ct=claim)
            link = ClaimLink(
                url=str(URL(url)), claim_token=claim, expires_in=data.get("expires_in")
            )
            return attach(link, info)
