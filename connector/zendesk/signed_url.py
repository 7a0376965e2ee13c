"""Zendesk's signed URLs for apps (`"signedUrls": true` in the manifest): the contract.

When the sidebar opens, Zendesk POSTs the app's first page with a form field `token`: a JWT
signed RS256 with the app's private key. Its claims (Zendesk's "Authenticating Zendesk in your
server-side app"): `iss` the account's host (`acme.zendesk.com`), `aud` the installation's API
URL (`https://acme.zendesk.com/api/v2/apps/installations/<id>.json`), `sub` the user's API URL
(`https://acme.zendesk.com/api/v2/users/<id>.json`), `iat`, `exp` (minutes after issue) and a
`context` (product, location). The public key comes from the Apps API
(`GET /api/v2/apps/<app_id>/public_key.pem`); `install` stores it. Later requests of the app
carry no such token: the connector opens its own short session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import jwt

from connector.inbound_model import SignatureRejected

LEEWAY_SECONDS = 30  # clock skew between Zendesk and this machine
_USER = re.compile(r"^(?:.*/api/v2/users/)?(\d+)(?:\.json)?$")


@dataclass(frozen=True)
class AppCaller:
    user_id: int
    location: str | None


def audience(zendesk_url: str, installation_id: int) -> str:
    return f"{zendesk_url.rstrip('/')}/api/v2/apps/installations/{installation_id}.json"


# The claims' exact spelling is from Zendesk's tutorial, not a specification: also accept the
# same values written without `.json` or as an origin, never another account or installation.
def _audiences(zendesk_url: str, installation_id: int) -> list[str]:
    canonical = audience(zendesk_url, installation_id)
    return [canonical, canonical.removesuffix(".json")]


def _issuers(zendesk_url: str) -> list[str]:
    parts = urlsplit(zendesk_url)
    return [parts.netloc, f"{parts.scheme}://{parts.netloc}"]


def verify(
    token: str, public_key_pem: str, zendesk_url: str, installation_id: int, now: datetime
) -> AppCaller:
    """The user the token speaks for, or SignatureRejected (bad signature, audience, issuer,
    expiry, or no user)."""
    try:
        claims = jwt.decode(
            token,
            public_key_pem,
            algorithms=["RS256"],  # never what the token's header asks for
            audience=_audiences(zendesk_url, installation_id),
            issuer=_issuers(zendesk_url),
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "aud", "iss", "sub"], "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise SignatureRejected("the Zendesk token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise SignatureRejected(f"the Zendesk token is not valid: {exc}") from None
    if int(claims["exp"]) < now.timestamp() - LEEWAY_SECONDS:  # our clock, not PyJWT's
        raise SignatureRejected("the Zendesk token has expired")
    found = _USER.match(urlsplit(str(claims["sub"])).path)
    if found is None:
        raise SignatureRejected("the Zendesk token names no user")
    context = claims.get("context")
    location = context.get("location") if isinstance(context, dict) else None
    return AppCaller(int(found.group(1)), location if isinstance(location, str) else None)
