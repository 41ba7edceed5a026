"""The bottom layer, imported by every other: secret redaction and the SDK's logger."""
