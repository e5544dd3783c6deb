"""An OAI-PMH 2.0 data provider: one implementation for the tests' fake partners,
the demo, the service's ``/oai`` and ``ichlinks publish``."""

from .http_server import Exchange, ProviderRequest, ProviderServer, accepts_gzip
from .protocol import (ERROR_CODES, OAI_NAMESPACE, VERBS, XML_CONTENT_TYPE, OAIError,
                       ProviderResponse, error_response, format_datestamp, handle,
                       parse_datestamp)
from .repository import (DAY_GRANULARITY, OAI_DC, SECONDS_GRANULARITY, FormatInfo,
                         InMemoryRepository, ProviderRecord, RecordRepository, RepositoryInfo,
                         SetInfo)
from .tokens import TOKEN_LIFETIME, InvalidToken, TokenState, decode_token, encode_token

__all__ = [
    "DAY_GRANULARITY", "ERROR_CODES", "OAI_DC", "OAI_NAMESPACE", "SECONDS_GRANULARITY",
    "TOKEN_LIFETIME", "VERBS", "XML_CONTENT_TYPE", "Exchange", "FormatInfo", "InMemoryRepository",
    "InvalidToken", "OAIError", "ProviderRecord", "ProviderRequest", "ProviderResponse",
    "ProviderServer", "RecordRepository", "RepositoryInfo", "SetInfo", "TokenState",
    "accepts_gzip", "decode_token", "encode_token", "error_response", "format_datestamp",
    "handle", "parse_datestamp",
]
