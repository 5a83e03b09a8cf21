"""Resident identity card numbers (GB 11643-1999): 17 digits and a check character."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


@dataclass(frozen=True)
class IdCard:
    number: str
    birth_date: datetime.date
    gender: str  # "male" | "female"


class IdCardError(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(en)


def normalise(raw: str) -> str:
    return raw.strip().replace(" ", "").upper()


def parse(raw: str) -> IdCard:
    """Check the format, the birth date it encodes and the check character."""
    number = normalise(raw)
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise IdCardError(
            "身份证号应为 18 位：前 17 位数字，最后一位数字或 X", "an ID number has 17 digits and a check digit or X"
        )
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise IdCardError("身份证号中的出生日期不存在", "the birth date in the ID number does not exist") from exc
    expected = _CHECK[sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True)) % 11]
    if number[17] != expected:
        raise IdCardError("身份证号校验位不正确，请核对是否有输错的数字", "the ID number's check digit is wrong")
    return IdCard(number, birth, "male" if int(number[16]) % 2 else "female")


def make(prefix: str, birth: datetime.date, sequence: int, gender: str) -> str:
    """A valid number for demo and test data (sequence 0-99; the gender digit is chosen to match)."""
    body = f"{prefix}{birth:%Y%m%d}{sequence:02d}"
    digit = 1 if gender == "male" else 2
    body = body + str(digit)
    check = _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check
