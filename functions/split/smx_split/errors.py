"""The one error type a user sees for bad input or a bad dataset."""

# The execution's cause carries the message with the Lambda runtime's JSON around it, and Step Functions keeps
# at most 32,768 characters of a cause: the message stays well under, each problem under PROBLEM_CHARS (a
# problem echoing a long value), and past the budget the rest are counted, not lost silently.
MESSAGE_CHARS = 24_000
PROBLEM_CHARS = 2_000


class InvalidInputError(Exception):
    """Every problem found in the execution input or the dataset, one per line.

    Each problem starts with where it is (a field path such as ``job_config.name`` or
    ``line 17``) and says how to fix it. The split step raises it before anything is
    written, so the execution fails with ``InvalidInputError`` and this text as its cause.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__(_bounded(self.problems))


def _bounded(problems: list[str]) -> str:
    lines: list[str] = []
    used = 0
    for index, problem in enumerate(problems):
        line = problem if len(problem) <= PROBLEM_CHARS else problem[:PROBLEM_CHARS - 6] + " [...]"
        if used + len(line) > MESSAGE_CHARS:
            rest = len(problems) - index
            lines.append(f"... and {rest} more problem{'s' if rest != 1 else ''}: "
                         "`smx-validator validate` on this input lists them all")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)
