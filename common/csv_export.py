"""CSV that is safe to open in a spreadsheet: every CSV Waypoint writes goes through `writer`.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
Excel, LibreOffice and Google Sheets, so a merchant reference such as `=HYPERLINK(...)` coming
back in an error report would run in the reader's spreadsheet. OWASP's rule (CSV Injection):
prefix such a cell with a single quote, which spreadsheets show as text; the csv module already
quotes embedded quotes and separators. Numbers are written as they are: only text is untrusted.
"""

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` with every text cell neutralized."""

    def __init__(self, file, **kwargs):
        self._writer = csv.writer(file, **kwargs)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([neutralize(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(file, **kwargs) -> SafeWriter:
    return SafeWriter(file, **kwargs)
