"""The client's TLS settings: its own ``ssl.SSLContext``, a CA file, a client certificate
(mTLS, for enterprise gateways), or a whole context the caller built.

Everything is checked, and files are loaded, when the client is built, before any I/O. The
key password is held as :class:`~xai_lite._secrets.HiddenBytes` (masked ``repr``, not
picklable) and never appears in a message.
"""

from __future__ import annotations

import os
import ssl
from typing import Any, Dict, Optional, Tuple, Union

from ._secrets import HiddenBytes, Secret
from .errors import InvalidArgumentError, sanitize

__all__ = ["ClientCert", "KeyPassword", "TLSSettings", "hide_password"]

#: ``"combined.pem"`` (certificate and key in one file) or ``("cert.pem", "key.pem")``
ClientCert = Union[str, Tuple[str, str]]
KeyPassword = Union[str, bytes, Secret]


class _KeyNeedsPassword(Exception):
    """Raised by the password callback: without it OpenSSL would prompt on the terminal."""


def _no_password() -> bytes:
    raise _KeyNeedsPassword()


class TLSSettings:
    """A client's TLS options, validated: ``ca_file``, ``client_cert`` (with
    ``client_key_password``), or ``ssl_context``, which excludes the other two."""

    __slots__ = ("ca_file", "client_cert", "_password", "ssl_context")

    def __init__(
        self,
        ca_file: Optional[str] = None,
        client_cert: Optional[ClientCert] = None,
        client_key_password: Optional[KeyPassword] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        self._password = hide_password(client_key_password)
        self.ca_file = _path("ca_file", ca_file) if ca_file is not None and ca_file != "" else None
        self.client_cert = _cert_files(client_cert)
        if self._password is not None and self.client_cert is None:
            raise InvalidArgumentError("client_key_password was given without client_cert; pass both")
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise InvalidArgumentError("ssl_context must be an ssl.SSLContext, not %s" % type(ssl_context).__name__)
        if ssl_context is not None and (self.ca_file is not None or self.client_cert is not None):
            raise InvalidArgumentError(
                "ssl_context and %s exclude each other: ssl_context is the whole TLS setup, so load the CA "
                "file and client certificate into it (load_verify_locations, load_cert_chain)"
                % ("ca_file" if self.ca_file is not None else "client_cert")
            )
        self.ssl_context = ssl_context

    @property
    def configured(self) -> bool:
        """True if any TLS option was given (the context is then built even for http)."""
        return self.ca_file is not None or self.client_cert is not None or self.ssl_context is not None

    def replace(self, **changes: Any) -> TLSSettings:
        """These settings with some options replaced (for ``Client.with_options``). A new
        ``ssl_context`` drops the inherited file options and new file options drop an
        inherited context; given together they are refused as in the constructor."""
        options: Dict[str, Any] = {}
        if "ssl_context" not in changes:
            cert = self.client_cert
            options.update(
                ca_file=self.ca_file,
                client_cert=cert[0] if cert is not None and cert[1] is None else cert,
                client_key_password=self._password,
            )
        options.update(changes)
        return TLSSettings(**options)

    def context(self) -> ssl.SSLContext:
        """The ``ssl.SSLContext`` for the client: the caller's own, or a new one with
        verification on, TLS 1.2 or newer, ``ca_file`` or ``SSL_CERT_FILE`` if given, and the
        client certificate. Never the module-global ``ssl._create_default_https_context``, which
        code elsewhere in a process sometimes replaces with an unverified one."""
        if self.ssl_context is not None:
            return self.ssl_context
        cafile = self.ca_file or os.environ.get("SSL_CERT_FILE") or None
        try:
            context = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as exc:
            problem = "could not load the CA file %r (%s: %s)" % (cafile, exc.__class__.__name__, sanitize(str(exc), 120))
        else:
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            problem = self._load_client_cert(context, *self.client_cert) if self.client_cert is not None else ""
            if not problem:
                return context
        raise InvalidArgumentError(problem)

    def _load_client_cert(self, context: ssl.SSLContext, cert: str, key: Optional[str]) -> str:
        """Load the certificate chain; return what went wrong, or ""."""
        files = "%r" % cert if key is None else "%r with the key %r" % (cert, key)
        try:
            context.load_cert_chain(cert, key, password=self._password if self._password is not None else _no_password)
        except _KeyNeedsPassword:
            return "client_cert: the private key in %s is encrypted; pass its password as client_key_password=" % files
        except ssl.SSLError as exc:
            if exc.reason == "KEY_VALUES_MISMATCH":
                return "client_cert: the private key does not belong to the certificate (%s)" % files
            hint = "; check client_key_password" if self._password is not None else ""
            return "client_cert: could not load %s (%s)%s" % (files, sanitize(str(exc), 120), hint)
        except OSError as exc:
            return "client_cert: could not read %s (%s)" % (files, sanitize(exc.strerror or str(exc), 120))
        return ""


def _path(name: str, value: object) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise InvalidArgumentError("%s must be the path of a PEM file, not %r" % (name, value))
    return value


def _cert_files(value: object) -> Optional[Tuple[str, Optional[str]]]:
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 2:
        return _path("client_cert", value[0]), _path("client_cert's key", value[1])
    if isinstance(value, (str, os.PathLike)):
        return _path("client_cert", value), None
    raise InvalidArgumentError(
        "client_cert must be a PEM file holding the certificate and its key, or a (cert_file, key_file) "
        "pair, not %s" % type(value).__name__
    )


def hide_password(value: object) -> Optional[HiddenBytes]:
    """A key password as :class:`HiddenBytes`; callers rebind their argument to it at once, so
    that the locals of a traceback raised later show it masked."""
    if value is None:
        return None
    if isinstance(value, Secret):
        value = value.expose()
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes):
        raise InvalidArgumentError("client_key_password must be a str, bytes or Secret, not %s" % type(value).__name__)
    return HiddenBytes(value)
