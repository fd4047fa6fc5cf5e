"""Check-in stream messages straight to store rows: the event classes' rules, without their objects.

The consumer's hot path. Validating a message into the event classes and
reading the row off the objects cost ~6 µs an event, most of it building
two model instances per event (and their ``isinstance`` checks). Here each
class of ``CheckinEvent`` is mirrored as a ``TypedDict`` derived from its
fields (same types, same constraints, same required and optional fields,
unknown fields ignored), and pydantic-core validates the raw bytes into
plain dicts (``validate_json``, in Rust): ~3.5 µs an event with the row.
The event classes stay the only definition of what is accepted; the
derivation refuses a class it cannot mirror exactly (validators, aliases,
a config other than ``extra="ignore"``), and undecodable messages and
unknown types or versions still raise ``pydantic.ValidationError`` (the
caller sends them to the dead-letter queue).
A hand-written orjson decoder was tried and measured slower (~14 µs).
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict

from services.tracing.models import CheckinRow, CheckoutRow
from shared.events import CheckinEvent, CheckinRecorded, CheckoutRecorded

# The discriminator: a union member without it is refused by the classes too.
_TAG = "type"


def mirror(model: type[BaseModel]) -> Any:
    """A ``TypedDict`` that accepts exactly the JSON ``model`` accepts (nested models mirrored too)."""
    config = dict(model.model_config)
    config.pop("frozen", None)  # immutability of the object, not a rule of the input
    decorators = model.__pydantic_decorators__
    if config != {"extra": "ignore"} or any(
        (decorators.validators, decorators.field_validators, decorators.model_validators)
    ):
        raise TypeError(f"{model.__name__} has rules a TypedDict mirror would not keep")
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.alias is not None or info.validation_alias is not None:
            raise TypeError(f"{model.__name__}.{name} has an alias")
        annotation: Any = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            annotation = mirror(annotation)
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[name] = annotation if info.is_required() or name == _TAG else NotRequired[annotation]
    typed = TypedDict(f"{model.__name__}Fields", fields)  # type: ignore[misc]  # built from the model
    return with_config(ConfigDict(extra="ignore"))(typed)


_MEMBERS = get_args(get_args(CheckinEvent)[0])
assert set(_MEMBERS) == {CheckinRecorded, CheckoutRecorded}, "a new check-in event needs its row here"
_EVENT: Any = Annotated[Union[tuple(mirror(m) for m in _MEMBERS)], Field(discriminator=_TAG)]  # noqa: UP007
_ADAPTER: TypeAdapter[Any] = TypeAdapter(_EVENT)
# The adapter's Rust validator itself: ``TypeAdapter.validate_json`` wraps it in Python that
# checks its arguments on every call (~0.4 us an event of ~2.6).
_VALIDATE = _ADAPTER.validator.validate_json
_CHECKOUT = "checkout.recorded"
_new_row = tuple.__new__


def decode_row(raw: bytes) -> CheckinRow | CheckoutRow:
    """The row one check-in-topic message stands for; raises ``ValidationError`` as the classes do."""
    event = _VALIDATE(raw)
    data = event["data"]
    if event[_TAG] == _CHECKOUT:
        return CheckoutRow(data["person_id"], data["venue_id"], data["checked_out_at"])
    get = data.get  # the optional fields default to None, as in CheckinRecordedData
    # What CheckinRow(...) does, without its keyword-parsing __new__ (~0.3 µs an event).
    return _new_row(
        CheckinRow,
        (
            data["checkin_id"],
            data["person_id"],
            data["venue_id"],
            data["method"],
            get("temperature_band"),
            data["colour_at_checkin"],
            get("inspector_id"),
            get("guardian_id"),
            data["checked_in_at"],
        ),
    )
