"""The exit codes every command promises (README 'Exit codes')."""

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_HARNESS_ERROR = 2
EXIT_INTERRUPTED = 130
