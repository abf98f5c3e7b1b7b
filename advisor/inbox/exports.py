"""CSV downloads from admin: the enquiry export and the dashboard's and funnel's figures."""

import csv

from django.http import HttpResponse

# Characters that make a spreadsheet treat a cell as a formula (ASVS 1.2.10, OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")


def escape_cell(value) -> str:
    """The cell's text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_response(filename: str, rows) -> HttpResponse:
    """A CSV attachment of `rows`, every cell escaped, kept out of every cache."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return response
