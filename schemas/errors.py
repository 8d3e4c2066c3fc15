"""The one error type for mistakes in user input (a missing folder, a bad flag, a malformed file the user named).

The CLI prints it as one `error:` line with exit status 2; every other exception is a bug and shows its traceback.
"""


class UserError(Exception):
    """A mistake in the user's input; the CLI prints it as one line, without a traceback."""
