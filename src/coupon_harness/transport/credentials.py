"""The target's credentials as one object. Standard library only: the load process must monkey-patch before
anything imports requests or ssl."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Credentials", "TlsOptions"]


@dataclass(frozen=True, slots=True)
class TlsOptions:
    """How every client of a run speaks TLS to the target: file paths as given, read by the clients."""

    verify: bool = True
    #: A CA bundle (PEM) to verify the target's certificate with, instead of the default ones.
    cacert: str | None = None
    #: A client certificate (PEM), with its key in `client_key` or in the same file.
    client_cert: str | None = None
    client_key: str | None = None

    def requests_verify(self, default: bool | str) -> bool | str:
        """requests' `verify`: False, the CA bundle, or `default` (the environment's bundle, or True)."""
        if not self.verify:
            return False
        return self.cacert if self.cacert is not None else default

    def requests_cert(self) -> str | tuple[str, str] | None:
        if self.client_cert is None:
            return None
        return (self.client_cert, self.client_key) if self.client_key is not None else self.client_cert


@dataclass(frozen=True, slots=True)
class Credentials:
    user: str | None = None
    password: str | None = None
    md5_password: bool = False
    oauth_key: str | None = None
    oauth_secret: str | None = None
    token: str | None = None
    #: The values of every other secret option of the run: never sent, only redacted.
    extra: tuple[str, ...] = ()
    #: Extra headers (`-H 'Name: value'`), sent on every request; their values are redacted.
    headers: tuple[tuple[str, str], ...] = ()
    #: TLS towards this target: verification, CA bundle, client certificate (a client certificate is a credential).
    tls: TlsOptions = field(default_factory=TlsOptions)

    def __repr__(self) -> str:  # never print a secret by accident
        kinds = [name for name, on in (("basic", self.user is not None), ("oauth", self.oauth_key is not None),
                                       ("token", self.token is not None)) if on]
        return f"Credentials({', '.join(kinds) or 'none'})"

    @property
    def any(self) -> bool:
        return self.user is not None or self.oauth_key is not None or self.token is not None

    @property
    def kind(self) -> str | None:
        """How reports name the credentials, never their value: "basic", "basic-md5", "token", "oauth"; or None."""
        if self.token:
            return "token"
        if self.oauth_key is not None:
            return "oauth"
        if self.user is not None:
            return "basic-md5" if self.md5_password else "basic"
        return None

    def access(self) -> dict[str, Any]:
        """What a replay line gives again beside the kind: the extra headers' names, the TLS (absolute paths)."""
        def absolute(path: str | None) -> str | None:
            return str(Path(path).absolute()) if path is not None else None

        return {"header_names": tuple(dict.fromkeys(name for name, _ in self.headers)),
                "tls_verify": self.tls.verify, "cacert": absolute(self.tls.cacert),
                "client_cert": absolute(self.tls.client_cert), "client_key": absolute(self.tls.client_key)}

    def basic_header(self) -> str | None:
        if self.user is None:
            return None
        password = self.password or ""
        if self.md5_password:
            password = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
        raw = f"{self.user}:{password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def secrets(self) -> list[str]:
        """Every secret itself (USER:PASSWORD and USER:MD5 included); the redactor derives their other forms."""
        found = [s for s in (self.password, self.oauth_secret, self.oauth_key, self.token, *self.extra,
                             *(value for _, value in self.headers)) if s]
        if self.password:
            digest = hashlib.md5(self.password.encode(), usedforsecurity=False).hexdigest()
            found += [digest, f"{self.user}:{self.password}", f"{self.user}:{digest}"]
        return found
