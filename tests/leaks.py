"""The key-canary check for fault tests: an error shows the key nowhere a reporter could look."""

from __future__ import annotations

import os
import pickle
import traceback

import xai_lite


def assert_no_key(error: BaseException, canary: str) -> None:
    """The canary is in no str, repr, args, attributes, pickle or locals-captured traceback (of
    the library's frames: the test's own frames hold the key by construction) of ``error``."""
    library = os.path.dirname(xai_lite.__file__)
    exc = traceback.TracebackException.from_exception(error, capture_locals=True)
    texts = [repr(f.locals) for f in exc.stack if f.filename.startswith(library)]
    texts += ["".join(exc.format_exception_only()), str(error), repr(error), repr(error.args), repr(vars(error))]
    assert all(canary not in text for text in texts)
    assert canary.encode() not in pickle.dumps(error)
