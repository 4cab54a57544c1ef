"""The native-speaker round trip: texts out to an XLSX workbook, corrections back in as proposals.

One sheet per language, one row per text: key, English, the current text (the column to
correct), its limit, and a comment column for the reviewer. An import is all or nothing: every
bad row is reported by sheet and row number and nothing is proposed until the workbook is clean.
"""

from dataclasses import dataclass, field
from io import BytesIO
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException
from sqlmodel import Session

from bot.content.review import ContentVersion, add_proposal, new_problems
from bot.content.store import Content
from bot.content.texts import TextRef, all_keys, parse_key, text_of
from bot.conversation.language import LANGUAGES, Lang

HEADER = ("key", "English", "text", "limit", "comment")
MAX_ROWS = 5000


class WorkbookError(Exception):
    """The workbook could not be imported; `problems` lists every bad row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    proposed: list[ContentVersion] = field(default_factory=list)
    unchanged: int = 0


def export_workbook(content: Content, languages: list[Lang]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for language in languages:
        sheet = book.create_sheet(str(language))
        sheet.append(HEADER)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for key in all_keys(content):
            sheet.append((key, text_of(content, key, Lang.EN), text_of(content, key, language),
                          TextRef(key).limit, ""))
        for column, width in zip("ABCDE", (28, 60, 60, 22, 30), strict=True):
            sheet.column_dimensions[column].width = width
        wrap = Alignment(wrap_text=True, vertical="top",
                         readingOrder=2 if language.is_arabic_script else 1)
        for row in sheet.iter_rows(min_row=2, min_col=2, max_col=3):
            for cell in row:
                cell.alignment = wrap
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: object) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def _read_rows(data: bytes) -> list[tuple[str, int, str, str, str]]:
    """(sheet, row number, key, text, comment) of every filled row; the header is checked."""
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, KeyError, ValueError, OSError) as error:
        raise WorkbookError([f"not an XLSX workbook ({type(error).__name__})"]) from error
    rows, problems = [], []
    languages = {str(lang) for lang in LANGUAGES}
    for sheet in book.worksheets:
        if sheet.title not in languages:
            problems.append(f"sheet {sheet.title!r}: not a language code "
                            f"({', '.join(sorted(languages))})")
            continue
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in (*values, "", "", "", "", "")[:5]]
            if number == 1:
                if tuple(c.lower() for c in cells) != tuple(h.lower() for h in HEADER):
                    problems.append(f"sheet {sheet.title} row 1: the header must be "
                                    f"{', '.join(HEADER)}")
                    break
                continue
            if any(cells):
                rows.append((sheet.title, number, cells[0], cells[2], cells[4]))
            if len(rows) > MAX_ROWS:
                raise WorkbookError([f"more than {MAX_ROWS} rows"])
    book.close()
    if problems:
        raise WorkbookError(problems)
    return rows


def import_workbook(session: Session, content: Content, data: bytes, *,
                    author_id: int) -> ImportReport:
    """Every changed text of the workbook as a proposal, or none of them (WorkbookError)."""
    problems: list[str] = []
    changes: dict[tuple[str, Lang], tuple[str, str, str]] = {}
    report = ImportReport()
    for sheet, number, key, text, comment in _read_rows(data):
        where, language = f"sheet {sheet} row {number}", Lang(sheet)
        if parse_key(content, key) is None:
            problems.append(f"{where}: unknown key {key!r}")
        elif not text:
            problems.append(f"{where}: the text is empty")
        elif (key, language) in changes:
            problems.append(f"{where}: {key} appears twice")
        elif text == text_of(content, key, language):
            report.unchanged += 1
        else:
            changes[(key, language)] = (text, comment, where)
    texts = {k: text for k, (text, _, _) in changes.items()}
    for problem in new_problems(content, texts):
        rows = [where for (key, lang), (_, _, where) in changes.items()
                if problem.startswith(TextRef(key).where(lang))]
        problems.append(f"{rows[0] if rows else 'workbook'}: {problem}")
    if problems:
        raise WorkbookError(problems)
    for (key, language), (text, comment, _) in changes.items():
        note = f"from a workbook: {comment}" if comment else "from a workbook"
        report.proposed.append(add_proposal(session, key=key, language=language, text=text,
                                            author_id=author_id, note=note))
    return report
