"""`cargo xtask api-check`'s hooks for schemathesis.

A data package (`POST /envs/{side}/load`) is uploaded as `application/zip`, a media type schemathesis
has no serializer for: its generated bodies are sent as bytes, as any binary body is.
"""

import schemathesis

schemathesis.serializer.alias("application/zip", "application/octet-stream")
