"""Zendesk's signed-URL JWTs for tests: a key pair and tokens with the claims Zendesk sends."""

from __future__ import annotations

import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

INSTALLATION_ID = 77


class KeyPair:
    def __init__(self) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_pem = (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def token(
        self,
        zendesk_url: str,
        user_id: int,
        installation_id: int = INSTALLATION_ID,
        expires_in: float = 300,
        **overrides: Any,
    ) -> str:
        now = int(time.time())
        host = zendesk_url.split("://", 1)[1].rstrip("/")
        claims = {
            "iss": host,
            "aud": f"{zendesk_url.rstrip('/')}/api/v2/apps/installations/{installation_id}.json",
            "sub": f"{zendesk_url.rstrip('/')}/api/v2/users/{user_id}.json",
            "iat": now,
            "exp": now + int(expires_in),
            "context": {"product": "support", "location": "ticket_sidebar"},
            **overrides,
        }
        return jwt.encode(claims, self.private, algorithm="RS256")
