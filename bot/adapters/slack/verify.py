"""Slack's request signature, checked before Bolt sees a request (HTTP mode).

Bolt verifies signatures too, but a malformed header or body made it raise (a timestamp such
as `abc` or `1.5e9`, a non-ASCII signature, a body that is not UTF-8: 500 and a logged
traceback, for anyone who can reach the port), and it logs the whole body of a forged request,
`response_url` included. Here every such request is refused with 401 and one log line that
says why, never the body; Bolt then sees only requests that are signed, and verifies them again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from slack_sdk.signature import SignatureVerifier

MAX_AGE = 5 * 60  # seconds: Slack's own replay window (Bolt's too)
# ASCII digits only: int() also reads other scripts' digits ("١٧٠٠") and surrounding spaces.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Refused(Exception):
    """The request is not one Slack signed; the message says why (never the body)."""


@dataclass(frozen=True, slots=True)
class RequestGate:
    """Checks each request's headers and body against the signing secret."""

    verifier: SignatureVerifier

    @classmethod
    def for_secret(cls, signing_secret: str) -> RequestGate:
        """A gate for the app's signing secret."""
        return cls(SignatureVerifier(signing_secret))

    def check(self, body: bytes, headers: Mapping[str, str]) -> str:
        """The body as text if Slack signed it (or it is Slack's unsigned SSL check); Refused if
        not."""
        try:
            text = body.decode("utf-8")  # Slack sends UTF-8, whatever the Content-Type says
        except UnicodeDecodeError:
            raise Refused("the body is not UTF-8") from None
        if _is_ssl_check(text):
            return text  # Bolt answers it with an empty 200 and runs nothing
        timestamp = headers.get("X-Slack-Request-Timestamp", "")
        signature = headers.get("X-Slack-Signature", "")
        if not _TIMESTAMP.fullmatch(timestamp):
            raise Refused("no valid X-Slack-Request-Timestamp header")
        if not _SIGNATURE.fullmatch(signature):
            raise Refused("no valid X-Slack-Signature header")
        if abs(time.time() - int(timestamp)) > MAX_AGE:
            raise Refused("the timestamp is more than 5 minutes off (a replay, or a wrong clock)")
        if not self.verifier.is_valid(text, timestamp, signature):
            raise Refused("the signature does not match NKRU_SLACK_SIGNING_SECRET")
        return text


def _is_ssl_check(text: str) -> bool:
    """Slack's periodic `ssl_check=1` request, which carries no command."""
    return "ssl_check" in text and parse_qs(text).get("ssl_check") == ["1"]
