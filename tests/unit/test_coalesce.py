"""Which reads share a query, and what each read gets back (a fake client; the real backends'
answers are compared in tests/integration/test_coalesce.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import pytest
import yaml

from sloreco import errors, settings
from sloreco.sources import coalesce, prometheus, promql


class FakeClient:
    """Answers each read with the label value it was for, and records the calls."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.fail = fail

    async def read_availability(self, *, total: str, **_: Any) -> str:
        self.calls.append(("one", (total,)))
        return f"one:{total}"

    async def read_latency(self, *, histogram: str, **_: Any) -> str:
        self.calls.append(("one", (histogram,)))
        return f"one:{histogram}"

    async def read_availability_many(
        self, *, total: object, values: Sequence[str], **_: Any
    ) -> dict[str, str]:
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        self.calls.append(("many", tuple(values)))
        return {v: f"many:{total}:{v}" for v in values}

    read_latency_many = read_availability_many

    async def aclose(self) -> None:
        return None


def source(fake: FakeClient, **options: Any) -> coalesce.Coalescing:
    return coalesce.Coalescing(cast("prometheus.PrometheusClient", fake), **options)


def avail(src: coalesce.Coalescing, service: str, *, extra: str = "") -> Any:
    return src.read_availability(
        total=f'req{{service="{service}"{extra}}}',
        errors=f'req{{service="{service}",code="500"{extra}}}',
        start=0, end=3600, bucket_seconds=3600,
    )  # fmt: skip


def gather(*reads: Any) -> list[Any]:
    async def main() -> list[Any]:
        return list(await asyncio.gather(*reads))

    return asyncio.run(main())


def test_concurrent_reads_of_one_metric_share_one_query() -> None:
    fake = FakeClient()

    async def main() -> list[Any]:
        src = source(fake)
        return list(await asyncio.gather(*(avail(src, s) for s in ("a", "b", "a"))))

    found = asyncio.run(main())
    assert fake.calls == [("many", ("a", "b"))]
    assert found == ["many:req:a", "many:req:b", "many:req:a"]


def test_a_read_alone_goes_out_as_before() -> None:
    fake = FakeClient()

    async def main() -> Any:
        return await avail(source(fake), "a")

    assert asyncio.run(main()) == 'one:req{service="a"}'
    assert fake.calls == [("one", ('req{service="a"}',))]


def test_reads_with_other_matchers_do_not_share() -> None:
    fake = FakeClient()

    async def main() -> None:
        src = source(fake)
        await asyncio.gather(avail(src, "a"), avail(src, "b", extra=',env="prod"'))

    asyncio.run(main())
    assert sorted(kind for kind, _ in fake.calls) == ["one", "one"]


@pytest.mark.parametrize(
    ("selector", "batchable"),
    [
        ('req{service="a"}', True),
        ('req{service=~"a"}', False),  # a regex may match several services
        ('req{job="a"}', False),
        ('req{service="a",service!="b"}', False),
    ],
)
def test_only_one_equality_matcher_on_the_label_is_split(selector: str, batchable: bool) -> None:
    parsed = promql.parse_selector(selector, field="total")
    assert (coalesce.split(parsed, "service") is not None) == batchable


def test_a_failed_query_fails_every_read_it_held() -> None:
    fake = FakeClient(fail=errors.QueryError("bad_data: boom"))

    async def main() -> list[Any]:
        src = source(fake)
        return list(await asyncio.gather(avail(src, "a"), avail(src, "b"), return_exceptions=True))

    found = asyncio.run(main())
    assert [str(e) for e in found] == ["bad_data: boom", "bad_data: boom"]


def test_a_full_batch_goes_out_without_waiting() -> None:
    fake = FakeClient()

    async def main() -> None:
        src = source(fake, max_batch=2, linger=3600.0)  # only the size can close it
        await asyncio.wait_for(asyncio.gather(avail(src, "a"), avail(src, "b")), timeout=5)

    asyncio.run(main())
    assert fake.calls == [("many", ("a", "b"))]


def load(tmp_path: Any, source: dict[str, Any]) -> Any:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"sources": [source]}))
    return settings.load({"SLORECO_CONFIG": str(path)})


def test_sources_batch_on_service_unless_told_otherwise(tmp_path: Any) -> None:
    default = load(tmp_path, {"name": "a", "url": "http://p"}).sources["a"]
    job = load(tmp_path, {"name": "a", "url": "http://p", "batchLabel": "job"}).sources["a"]
    off = load(tmp_path, {"name": "a", "url": "http://p", "batchLabel": ""}).sources["a"]
    assert (default.batch_label, job.batch_label, off.batch_label) == ("service", "job", "")


def test_a_batch_label_that_is_no_label_name_names_the_field(tmp_path: Any) -> None:
    with pytest.raises(errors.InputError, match=r"sources\[0\]\.batchLabel"):
        load(tmp_path, {"name": "a", "url": "http://p", "batchLabel": "not a label"})
