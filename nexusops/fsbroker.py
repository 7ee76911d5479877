"""The embedded mode's filesystem broker, with messages that appear whole.

kombu's filesystem transport creates a message file under its final name and then writes
it, while a consumer moves and reads any file with that name without a lock. A worker
that polls at the wrong moment reads an empty or half-written file, fails to decode it
and stops (seen under load in `make run`). Here a message is written under a name no
consumer picks up, then renamed into place, which is atomic on one filesystem.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A consumer takes only "<stamp>_<uuid>.<queue>.msg"; a dot-led name is never one.
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.writing")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            try:
                os.unlink(partial)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
