"""The one error type a user sees for bad input or a bad dataset."""


class InvalidInputError(Exception):
    """Every problem found in the execution input or the dataset, one per line.

    Each problem starts with where it is (a field path such as ``job_config.name`` or
    ``line 17``) and says how to fix it. The split step raises it before anything is
    written, so the execution fails with ``InvalidInputError`` and this text as its cause.
    """

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))
