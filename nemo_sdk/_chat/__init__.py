"""The pieces of a chat turn under ``resources.chat``.

The event types and their parser, the handlers, the reply's text and the reply, and
recovery after a dropped stream.
"""
