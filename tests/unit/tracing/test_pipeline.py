"""The batch writer's offset bookkeeping: where a dropped or failed batch is fetched again from."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import TopicPartition
from hypothesis import given
from hypothesis import strategies as st

from services.tracing.pipeline import _last_offsets, earliest


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int


records = st.lists(
    st.builds(Record, st.sampled_from(["a", "b"]), st.integers(0, 3), st.integers(0, 10_000)), max_size=40
)


@given(records)
def test_each_partition_of_a_batch_is_rewound_to_its_first_record(batch: list[Record]) -> None:
    first = earliest(batch)
    assert set(first) == {TopicPartition(r.topic, r.partition) for r in batch}
    for record in batch:
        assert first[TopicPartition(record.topic, record.partition)] <= record.offset
    for tp, offset in first.items():
        assert Record(tp.topic, tp.partition, offset) in batch


@given(records)
def test_each_partition_of_a_batch_is_committed_past_its_last_record(batch: list[Record]) -> None:
    last = _last_offsets(batch)
    assert set(last) == {TopicPartition(r.topic, r.partition) for r in batch}
    for record in batch:
        assert last[TopicPartition(record.topic, record.partition)] >= record.offset
    for tp, offset in last.items():
        assert Record(tp.topic, tp.partition, offset) in batch
