"""The partner kit: ``ichlinks publish`` serves a spreadsheet or a folder of item files as a
standard OAI-PMH 2.0 repository, so a partner with no repository software can be harvested.

Flow: ``readers`` (CSV, XLSX, folder -> items) -> ``columns`` (header -> field, language)
-> ``rows`` (item -> checked entry -> ICH record) -> ``state`` (datestamps and deletions kept
beside the input) -> ``repository`` (a ``RecordRepository``) -> ``serving`` (HTTP, media).
``checking`` runs the aggregator's crosswalk on what would be served; ``templates`` gives an
empty inventory to start from.
"""

from .checking import CheckReport, RowReport, check_input
from .columns import Column, parse_header
from .errors import InputError
from .readers import CsvInput, FolderInput, Input, InputItem, XlsxInput, open_input
from .repository import Publication, PublishedRepository, publication_for
from .rows import Entry, Problem, ich_record, read_entry
from .serving import PublishServer
from .state import (Changes, ItemState, Observed, PublishState, load_state, reconcile, save_state,
                    state_path)
from .templates import TEMPLATE_FORMATS, template

__all__ = [
    "TEMPLATE_FORMATS", "Changes", "CheckReport", "Column", "CsvInput", "Entry", "FolderInput",
    "Input", "InputError", "InputItem", "ItemState", "Observed", "Problem", "Publication",
    "PublishServer", "PublishState", "PublishedRepository", "RowReport", "XlsxInput",
    "check_input", "ich_record", "load_state", "open_input", "parse_header", "publication_for",
    "read_entry", "reconcile", "save_state", "state_path", "template",
]
