"""`dnscheck runbook`: the article's six cancellation steps, composed from check results. No DNS logic here.

| module | role |
|---|---|
| `policy.py` | the channel rules as data: the article's (default) and Microsoft's current ones |
| `steps.py` | check results + policy + acknowledgements -> the six steps (pure: no I/O, no clock) |
| `state.py` | the `--state FILE`: acknowledgements and the last check, written atomically, owner-only |
| `render.py` | table, json, markdown |
| `command.py` | the click command: parse and wire |

Only `command.py` is imported when the CLI starts; everything else is imported when the command runs.
"""
