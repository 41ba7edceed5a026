"""The API's and the arguments' rules as pure functions: no I/O here.

Argument checks, export options, the render poll schedule, scopes, spend, and the
waits read from the environment.
"""
