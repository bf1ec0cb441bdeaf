# SPDX-License-Identifier: MIT
"""Errors: the negative errno of a failed call plus fdk_last_error()'s detail (common.h)."""
from . import _native as n


def _text(raw):
    return raw.decode("utf-8", "replace") if raw else ""


class Error(OSError):
    """A failed fdkit call. errno is positive; detail is what fdkit recorded; escape is
    True when a confined path was refused for leading out of its directory (errno EXDEV,
    told apart from a genuine cross-device EXDEV).

    Error(code) is an instance of the OSError subclass OSError(code, ...) itself would be
    (FileNotFoundError, PermissionError, FileExistsError, TimeoutError...) as well as of
    Error, so `except FileNotFoundError` works as with os calls."""

    def __new__(cls, code, detail=""):
        if cls is Error:
            cls = _class_for(abs(code))
        # OSError takes errno and strerror here once __new__ is overridden (not in __init__).
        return super().__new__(cls, abs(code), _text(n.fdk_strerror(abs(code))))

    def __init__(self, code, detail=""):
        code = abs(code)
        super().__init__(code, _text(n.fdk_strerror(code)))
        self.detail = detail
        self.name = _text(n.fdk_errname(code))
        self.escape = False

    @classmethod
    def last(cls, code, filename=None, filename2=None):
        """The error for code with this thread's last detail: call it right after the
        failing call, on the same thread. filename (and filename2, a rename's target) are
        the paths involved, as OSError carries them."""
        error = cls(code, _text(n.fdk_last_error()))
        error.escape = n.fdk_last_error_is_escape() == 1
        error.filename, error.filename2 = filename, filename2
        return error

    def __str__(self):
        return f"{self.detail or self.strerror} ({self.name})"


_subclasses = {}


def _class_for(code):
    """The subclass of Error and of the OSError subclass that code maps to."""
    builtin = type(OSError(code, ""))
    if builtin is OSError:
        return Error
    cls = _subclasses.get(builtin)
    if cls is None:
        cls = _subclasses[builtin] = type(builtin.__name__, (Error, builtin), {"__module__": __name__})
    return cls


def check(result, filename=None, filename2=None):
    """A C result: non-negative values pass, negative ones raise the thread's last error
    (naming filename and filename2 when given)."""
    if result < 0:
        raise Error.last(result, filename, filename2)
    return result


def version():
    """The loaded library's version as MAJOR * 10000 + MINOR * 100 + PATCH."""
    return n.fdk_version()


def version_string():
    return _text(n.fdk_version_string())
