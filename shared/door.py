"""The words of the door, shared by the reverse scan (checkin) and assisted lookup (status) pages.

The notice's own terms: an inspector 確認放行 (lets a person in); a fever is never let in by a
slip of the finger, so its warning names what to do and asks to be acknowledged first.
"""

from __future__ import annotations

from shared.pages import Text
from shared.pages import text as _t

DOOR_TEXTS: dict[str, Text] = {
    "temperature": _t("體溫", "体温", "Temperature"),
    "normal": _t("正常", "正常", "Normal"),
    "fever": _t("發熱", "发热", "Fever"),
    "confirm_entry": _t("確認放行", "确认放行", "Confirm entry"),
    "entry_recorded": _t("已確認放行", "已确认放行", "Entry recorded"),
    "fever_warning": _t(
        "發熱！請按場所的發熱處置規定處理（如引導至發熱門診）。",
        "发热！请按场所的发热处置规定处理（如引导至发热门诊）。",
        "Fever! Follow the venue's fever procedure (e.g. direct the person to a fever clinic).",
    ),
    "fever_ack": _t(
        "我已知悉此人發熱，並已按規定處理",
        "我已知悉此人发热，并已按规定处理",
        "I have seen this person has a fever and followed the procedure",
    ),
}
