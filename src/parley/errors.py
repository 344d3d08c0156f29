"""Errors meant for people.

A `ParleyError` carries one sentence that says what happened and what to do. The CLI prints it
without a traceback and exits non-zero; anything else is a bug and keeps its traceback.
"""


class ParleyError(Exception):
    """An expected failure (bad input, missing model, unreachable endpoint) with a human message."""


def describe(exc: BaseException) -> str:
    """What went wrong, for an `error` event or a message: an expected failure's own sentence, else
    the exception's class and text (a bug: the class says more than the text alone)."""
    if isinstance(exc, ParleyError):
        return str(exc)
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


class AudioFileError(ParleyError):
    """A WAV file that is missing, empty, truncated or not audio."""


class ModelUnavailableError(ParleyError):
    """A model package or weight file is missing or corrupt."""


class EndpointError(ParleyError):
    """A remote model endpoint could not be reached or answered with an error."""


class DeviceUnavailableError(ParleyError):
    """No audio device exists on this machine."""
