"""Tail everything you own (jobs and orders) as it happens; resumable with a seq.

python examples/tail_user_me.py [SINCE_SEQ]    (Ctrl-C stops it)
"""

import sys

from jobcast.client import Client

try:
    with Client() as client:
        since = sys.argv[1] if len(sys.argv) > 1 else None
        for event in client.events("user.me", since=since):
            # event.seq is what to pass back as `since` to pick up exactly here next time.
            what = event.data.get("job_id") or event.data.get("id")
            print(event.seq, event.type, what, flush=True)
except KeyboardInterrupt:
    sys.exit(130)  # Ctrl-C is how a tail ends: no traceback
