"""`dnscheck runbook`: the article's six cancellation steps, composed from check results. No DNS logic here.

| module | role |
|---|---|
| `model.py` | the values: steps, statuses, dependencies, acknowledgements, evidence, message ids with arguments |
| `policy.py` | the channel rules as data: the article's (default) and Microsoft's current ones |
| `steps.py` | results + evidence + policy + acknowledgements -> the six steps (pure: no I/O, no clock) |
| `texts.py` | the runbook's words, as message ids |
| `evidence.py` | what each live check saw, the history of changes, safe_after (pure) |
| `state.py` | the `--state FILE`: versioned, locked, written atomically, owner-only |
| `render.py` | table, json, markdown (called through dnscheck/formats/) |
| `flow.py` | one run: lock, load, check, build, acknowledge in order, save, render |
| `command.py` | the click command: parse |

Only `command.py` is imported when the CLI starts; everything else is imported when the command runs.
"""
