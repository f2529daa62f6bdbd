"""A local image captcha (no outside service).

`GET /captcha.png` draws a fresh answer with the `captcha` package and keeps in the session
only an HMAC of the normalized answer (keyed by SECRET_KEY, bound to a random nonce) and an
expiry, never the answer itself: Flask's session cookie is signed, not encrypted. Every check
consumes the challenge, and its nonce is claimed in the lockout store, so replaying an old
session cookie does not make a solved challenge reusable. `XUEJI_CAPTCHA_ENABLED=0` turns it off.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from flask import current_app, make_response, session
from flask_appbuilder import BaseView, expose
from werkzeug.wrappers import Response

from .lockout import claim_once

# No 0/O, 1/I/L: nothing a reader can confuse.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
TTL_SECONDS = 300
SESSION_KEY = "_xueji_captcha"


def enabled() -> bool:
    return bool(current_app.config.get("XUEJI_CAPTCHA_ENABLED", True))


def generate_answer() -> str:
    """A random 4- or 5-character answer (tests patch this to know the answer)."""
    length = 4 + secrets.randbelow(2)
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize(answer: str | None) -> str:
    return "".join((answer or "").split()).upper()


def _mac(nonce: str, answer: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    message = f"xueji-captcha:{nonce}:{answer}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def new_challenge() -> bytes:
    """Start a challenge in the session; return its PNG."""
    from captcha.image import ImageCaptcha

    answer = generate_answer()
    nonce = secrets.token_urlsafe(16)
    session[SESSION_KEY] = {
        "n": nonce,
        "h": _mac(nonce, normalize(answer)),
        "e": int(time.time()) + TTL_SECONDS,
    }
    return ImageCaptcha(width=160, height=60).generate(answer).getvalue()


def verify(answer: str | None) -> bool:
    """Check and consume the session's challenge (always consumed, right or wrong)."""
    data = session.pop(SESSION_KEY, None)
    if not isinstance(data, dict) or not {"n", "h", "e"} <= data.keys():
        return False
    nonce, expected, expires = str(data["n"]), str(data["h"]), data["e"]
    if not isinstance(expires, int) or time.time() > expires:
        return False
    if not claim_once(f"captcha:{nonce}", TTL_SECONDS + 60):
        return False  # a replayed session cookie
    given = normalize(answer)
    return bool(given) and hmac.compare_digest(expected, _mac(nonce, given))


class CaptchaView(BaseView):
    """Serves the challenge image; public (no permission), never cached."""

    route_base = ""
    default_view = "image"

    @expose("/captcha.png")
    def image(self) -> Response:
        response = make_response(new_challenge())
        response.headers["Content-Type"] = "image/png"
        response.headers["Cache-Control"] = "no-store, max-age=0"
        response.headers["Pragma"] = "no-cache"
        return response
