"""Step Functions' payload limit, and the budget SMX-Validator keeps under it. Pure.

https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html: the input or output of a
task, state or execution is at most 256 KiB of UTF-8. The split refuses a run whose largest state
would pass BUDGET_BYTES, and the gather trims its output to it, leaving room for what Step Functions
adds around a result (the ResultPath merge).
"""

LIMIT_BYTES = 256 * 1024
BUDGET_BYTES = 240 * 1024
