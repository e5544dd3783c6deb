"""Why an input cannot be published at all (as opposed to a row with problems)."""

from __future__ import annotations

from harvester.errors import IchlinksError


class InputError(IchlinksError):
    """The input file or folder cannot be read; the message tells the partner what to do."""

    exit_code = 2
