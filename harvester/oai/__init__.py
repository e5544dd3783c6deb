"""OAI-PMH client side: HTTP with retries, and a parser that never loses a record silently."""

from harvester.oai.client import HostPools, OAIClient, Page
from harvester.oai.response import (Diagnostic, Header, OAIResponse, RawRecord, ResumptionToken,
                                    parse_response)
from harvester.oai.retry import RetryPolicy, parse_retry_after

__all__ = ["Diagnostic", "Header", "HostPools", "OAIClient", "OAIResponse", "Page", "RawRecord",
           "ResumptionToken", "RetryPolicy", "parse_response", "parse_retry_after"]
