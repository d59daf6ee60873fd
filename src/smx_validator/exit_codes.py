"""The exit codes of every smx-validator command, in one place.

0: the command did what was asked (a validation found no problem, a run succeeded).
1: it ran, and what it ran failed (an execution FAILED, a stale generated document).
2: it could not start: bad input, a file or option it cannot use, a port in use.
128 + signal: interrupted (130 for Ctrl-C, 143 for SIGTERM): smx_validator.interrupts.
"""

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
