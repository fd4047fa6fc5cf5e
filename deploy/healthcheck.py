"""Container health check: GET /api/<VENUECODE_SERVICE>/healthz on the local port, exit 0 when 200."""

import os
import sys
import urllib.request

SERVICE = os.environ.get("VENUECODE_SERVICE", "registry")
PORT = os.environ.get("VENUECODE_PORT", "8000")
URL = f"http://127.0.0.1:{PORT}/api/{SERVICE}/healthz"

try:
    with urllib.request.urlopen(URL, timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
