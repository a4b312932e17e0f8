"""The client's TLS settings: its own ``ssl.SSLContext``."""

from __future__ import annotations

import os
import ssl
from typing import Optional

from .errors import InvalidArgumentError, sanitize

__all__ = ["ssl_context"]


def ssl_context(ca_file: Optional[str]) -> ssl.SSLContext:
    """The client's own TLS context: verification on, TLS 1.2 or newer, ``ca_file`` or
    ``SSL_CERT_FILE`` if given. Never the module-global ``ssl._create_default_https_context``,
    which code elsewhere in a process sometimes replaces with an unverified one."""
    cafile = ca_file or os.environ.get("SSL_CERT_FILE") or None
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        problem = "%s: %s" % (exc.__class__.__name__, sanitize(str(exc), 120))
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context
    raise InvalidArgumentError("could not load the CA file %r (%s)" % (cafile, problem))


