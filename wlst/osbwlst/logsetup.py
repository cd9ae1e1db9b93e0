"""Logging for the WLST scripts, with every registered secret value masked in every record."""

import logging
import sys

MASK = "********"
_secrets = []


def register_secret(value):
    """Mask value in all later log output; empty values are ignored."""
    if value and value not in _secrets:
        _secrets.append(value)


def mask(text):
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


class MaskingFormatter(logging.Formatter):
    def format(self, record):
        return mask(logging.Formatter.format(self, record))


def configure(level=logging.INFO):
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
