"""The embedded broker: kombu's filesystem transport, with messages that appear in the queue whole.

kombu writes a message by creating its file in the queue folder and then writing into it; a worker
listing the folder in between takes the empty file, cannot decode it, and stops for good
("Unrecoverable error: JSONDecodeError"). The more often workers poll (and they must poll often for
ten audio levels a second to get through), the likelier that is. Here each message is written under a
name no consumer takes and then renamed into place: a rename within a folder is atomic, so a consumer
sees a message whole or not at all.

`_put` is the method kombu's virtual transports implement to store a message (kombu's "Writing a
transport" contract); everything else is kombu's own.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The name kombu gives a message (time-ordered, then unique, then the queue it belongs to).
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: kombu's consumers only take names of the form "<id>.<queue>.msg".
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as fh:
                fh.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            try:
                os.unlink(partial)
            except OSError:
                pass
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
