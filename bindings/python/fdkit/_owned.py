# SPDX-License-Identifier: MIT
"""The shared life of an object that owns one C handle: dispose() releases it now (once),
the collector otherwise, and a with-block at its end."""


class Owned:
    _raw = None

    def _release(self, raw):
        """Releases the C handle raw (a subclass's destructor call)."""
        raise NotImplementedError

    @property
    def _live(self):
        """The C handle; ValueError once released, as a closed file's methods raise, instead
        of handing NULL to C (whose -EINVAL would pass for a result)."""
        if not self._raw:
            raise ValueError(f"{type(self).__name__} was already released")
        return self._raw

    def dispose(self):
        """Releases the C handle now; later calls do nothing."""
        if self._raw:
            raw, self._raw = self._raw, None
            self._release(raw)

    def __del__(self):
        self.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.dispose()
