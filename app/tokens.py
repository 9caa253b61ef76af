"""Signed bearer tokens (JWT, HS256) with an expiry; verification refuses anything else."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta

import jwt
from pydantic import BaseModel, ConfigDict

from app.users import Principal

ALGORITHM = "HS256"
ISSUER = "iffgraph"
# Claims a token must carry; a token without one of them is refused, not defaulted.
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "sub", "jti"]


class Token(BaseModel):
    """The OAuth2 token response."""

    model_config = ConfigDict(extra="forbid")

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int


class TokenError(Exception):
    """The token is missing, malformed, tampered with, expired or not ours."""


# Tokens verified so far, with their validity window, so that a client's next request does
# not decode and re-sign its token again (a twentieth of the API's time); bounded.
VERIFIED_MAX = 4_096


def _clock() -> float:
    return time.time()


class Signer:
    def __init__(self, key: str, *, minutes: int) -> None:
        self._key = key
        self.minutes = minutes
        self._verified: dict[str, tuple[str, float, float]] = {}

    def issue(self, principal: Principal, *, now: datetime | None = None) -> Token:
        issued = now or datetime.now(UTC)
        claims = {
            "sub": principal.username,
            "agency": principal.agency.value,
            "iss": ISSUER,
            "iat": issued,
            "nbf": issued,
            "exp": issued + timedelta(minutes=self.minutes),
            "jti": secrets.token_hex(12),
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        return Token(access_token=token, expires_in=self.minutes * 60)

    def verify(self, token: str) -> str:
        """The username a valid token was issued to; raises TokenError otherwise.

        A token verified before is the same signed bytes under the same key: only its
        validity window is checked again, with the claims it was verified with.
        """
        known = self._verified.get(token)
        if known is not None:
            username, not_before, expires = known
            now = _clock()
            if now >= expires:
                raise TokenError("token expired")
            if now < not_before:
                raise TokenError("invalid token")
            return username
        try:
            # algorithms is pinned, so "none" and key-confusion tokens are refused.
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as e:
            raise TokenError("token expired") from e
        except jwt.InvalidTokenError as e:
            raise TokenError("invalid token") from e
        username = str(claims["sub"])
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.clear()
        not_before = max(float(claims["nbf"]), float(claims["iat"]))
        self._verified[token] = (username, not_before, float(claims["exp"]))
        return username
