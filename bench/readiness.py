"""Which ServiceLevels are Ready for their generation, kept from one watch of the apiserver.

The scale benchmark used to LIST every ServiceLevel, statuses and all, every two seconds until
all were Ready. That costs the apiserver O(fleet) per poll and O(fleet) polls, so at 20,000 the
benchmark's own reads were a growing share of the "apiserver CPU per ServiceLevel" it reported
(and its client parsed a hundred megabytes of JSON per poll on the cores the operator needs). A
watch costs one LIST, then one event per write that the apiserver already serializes for the
operator's own watch: the same per-ServiceLevel cost at any fleet size.

The watch runs in a thread with its own client; ``ready()`` is the probe that
``waiting.wait_until`` (the one wait mechanism) calls. A watch that ends (the server's timeout)
resumes from the last resourceVersion seen; one that is too old (410 Gone) lists again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx

#: The server ends each watch after this long and it is resumed: short enough that a thread
#: told to stop is not kept waiting on a quiet stream for long.
WATCH_SECONDS = 10


def is_ready(service_level: Mapping[str, Any]) -> bool:
    """Ready=True, as written for the ServiceLevel's current generation."""
    status = service_level.get("status") or {}
    conditions = {c["type"]: c["status"] for c in status.get("conditions", [])}
    observed = status.get("observedGeneration")
    return observed == service_level["metadata"].get("generation") and (
        conditions.get("Ready") == "True"
    )


class Readiness:
    """The names of the Ready ServiceLevels at ``path``, followed from a watch in a thread."""

    def __init__(self, client: Callable[[], httpx.Client], path: str) -> None:
        self._client, self._path = client, path
        self._ready: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._follow, name="readiness", daemon=True)

    def __enter__(self) -> Readiness:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * WATCH_SECONDS)

    def count(self) -> int:
        """How many are Ready now; re-raises what stopped the watch, if anything did."""
        if self._failure is not None:
            raise RuntimeError("the readiness watch failed") from self._failure
        with self._lock:
            return len(self._ready)

    def _follow(self) -> None:
        try:
            with self._client() as client:
                while not self._stop.is_set():
                    version: str | None = self._list(client)
                    while version is not None and not self._stop.is_set():
                        version = self._watch(client, version)
        except BaseException as exc:  # handed to the probe, which raises it in the benchmark
            self._failure = exc

    def _list(self, client: httpx.Client) -> str:
        response = client.get(self._path)
        response.raise_for_status()
        listing = response.json()
        with self._lock:
            self._ready = {
                sl["metadata"]["name"] for sl in listing.get("items", []) if is_ready(sl)
            }
        return str(listing["metadata"]["resourceVersion"])

    def _watch(self, client: httpx.Client, version: str) -> str | None:
        """Follow one watch from ``version``; the last version seen, or None to list again."""
        params = {
            "watch": "true",
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(WATCH_SECONDS),
        }
        with client.stream("GET", self._path, params=params) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line:
                    continue
                event = json.loads(line)
                if event["type"] == "ERROR":  # 410 Gone: the version is too old to resume from
                    return None
                obj = event["object"]
                version = str(obj["metadata"]["resourceVersion"])
                if event["type"] == "BOOKMARK":
                    continue
                name = obj["metadata"]["name"]
                with self._lock:
                    if event["type"] != "DELETED" and is_ready(obj):
                        self._ready.add(name)
                    else:
                        self._ready.discard(name)
        return version
