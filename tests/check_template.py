#!/usr/bin/env python3
"""Reads an xlsx ledger template (xxgkctl template KIND --format xlsx) with openpyxl (Debian's
python3-openpyxl, not the writer's library), checks it, and saves its ledger sheet as Excel saves
"CSV UTF-8", so that xxgk-push can import what a clerk would:

    check_template.py TEMPLATE.xlsx TEMPLATE.csv EXPECT.json OUT.csv OUT-GB18030.csv

TEMPLATE.csv is the CSV template of the same kind (already checked against the ledger table by
the caller); EXPECT.json is {"lists": {HEADER: [VALUE, ...]}, "dates": [HEADER, ...], "rows": N}
from the ledger table. Checked: the sheets (the ledger, 填写说明, the hidden list sheet); the
header row equals the CSV's, bold, frozen, each header with a note; the example row equals the
CSV's (dates as dates formatted yyyy-mm-dd, as their whole column is); nothing below it; every enum column has exactly one
drop-down list over the N data rows whose values are exactly the table's, and no other column
has one; every date column has a date check. OUT.csv is the ledger sheet as Excel's "CSV UTF-8"
(BOM, CRLF), OUT-GB18030.csv as its plain "CSV" on Chinese Windows (GB18030, no BOM). Prints one
line and exits 0, or prints what differs and exits 1.
"""
import csv
import datetime
import io
import json
import re
import sys

import openpyxl
from openpyxl.utils import get_column_letter, range_boundaries

errors = []


def fail(msg):
    errors.append(msg)


def read_csv(path):
    data = open(path, "rb").read()
    if not data.startswith(b"\xef\xbb\xbf"):
        fail(f"{path}: no UTF-8 BOM")
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def shown(value):
    """A cell as Excel shows it, and so saves it as CSV, in the template's formats."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def list_values(wb, formula):
    """The values a list validation's formula ('SHEET'!$B$2:$B$7) refers to."""
    m = re.fullmatch(r"=?'?([^'!]+)'?!(\$?[A-Z]+\$?\d+:\$?[A-Z]+\$?\d+)", formula or "")
    if m is None or m.group(1) not in wb.sheetnames:
        fail(f"drop-down list {formula!r} is no range of a sheet of the workbook")
        return None
    ws = wb[m.group(1)]
    min_col, min_row, max_col, max_row = range_boundaries(m.group(2).replace("$", ""))
    return [ws.cell(row=r, column=c).value for c in range(min_col, max_col + 1)
            for r in range(min_row, max_row + 1)]


def main():
    xlsx, template_csv, expect_path, out_csv, out_gb18030 = sys.argv[1:6]
    expect = json.load(open(expect_path, encoding="utf-8"))
    rows_wanted = expect["rows"]
    want = read_csv(template_csv)
    if len(want) != 2:
        fail(f"{template_csv}: {len(want)} lines, want the header and the example")
        print("\n".join(errors))
        return 1
    header, example = want
    wb = openpyxl.load_workbook(xlsx)
    if len(wb.sheetnames) != 3 or wb.sheetnames[1] != "填写说明":
        fail(f"sheets {wb.sheetnames}: want the ledger, 填写说明 and the list sheet")
    states = [ws.sheet_state for ws in wb.worksheets]
    if states != ["visible", "visible", "hidden"]:
        fail(f"sheet states {states}: want the list sheet hidden")
    ws = wb.worksheets[0]
    got_header = [c.value for c in ws[1]]
    if got_header != header:
        fail(f"header {got_header}, the CSV's {header}")
    for c in ws[1]:
        if not c.font.b:
            fail(f"{c.coordinate}: header not bold")
        if c.comment is None or not c.comment.text.strip():
            fail(f"{c.coordinate}: header without a note")
    if ws.freeze_panes != "A2":
        fail(f"frozen at {ws.freeze_panes!r}, want the header row (A2)")
    got_example = [shown(c.value) for c in ws[2]]
    if got_example != example:
        fail(f"example row {got_example}, the CSV's {example}")
    if ws.max_row != 2:
        fail(f"{ws.max_row} rows, want the header and the example only")
    columns = {h: i + 1 for i, h in enumerate(header)}
    for name in expect["dates"]:
        c = ws.cell(row=2, column=columns[name])
        if c.value is not None and not isinstance(c.value, datetime.datetime):
            fail(f"{c.coordinate} ({name}): {c.value!r} is no date")
        if c.value is not None and c.number_format != "yyyy-mm-dd":
            fail(f"{c.coordinate} ({name}): format {c.number_format!r}")
        # the column's format is what the dates a clerk types get
        dim = ws.column_dimensions[get_column_letter(columns[name])]
        if dim.number_format != "yyyy-mm-dd":
            fail(f"column {name}: format {dim.number_format!r}, want yyyy-mm-dd")

    lists, dates = {}, set()
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            min_col, min_row, max_col, max_row = range_boundaries(rng)
            for col in range(min_col, max_col + 1):
                name = header[col - 1] if col <= len(header) else get_column_letter(col)
                if min_row != 2 or max_row < 1 + rows_wanted:
                    fail(f"{name}: validation over rows {min_row}..{max_row}, want 2.."
                         f"{1 + rows_wanted}")
                if dv.type == "list":
                    if name in lists:
                        fail(f"{name}: two drop-down lists")
                    lists[name] = list_values(wb, dv.formula1)
                    if dv.showDropDown:  # openpyxl's name for "hide the in-cell arrow"
                        fail(f"{name}: the drop-down arrow is hidden")
                elif dv.type == "date":
                    dates.add(name)
    for name, values in expect["lists"].items():
        if name not in lists:
            fail(f"{name}: no drop-down list")
        elif lists[name] != values:
            fail(f"{name}: drop-down {lists[name]}, the table's {values}")
    for name in lists:
        if name not in expect["lists"]:
            fail(f"{name}: a drop-down list on a column that is no enum")
    for name in expect["dates"]:
        if name not in dates:
            fail(f"{name}: no date check")

    # what Excel writes for "CSV UTF-8 (逗号分隔)" (a BOM), and for "CSV (逗号分隔)" on Chinese
    # Windows (the ANSI code page, GBK, which GB18030 extends): CRLF, the cells as shown
    for path, encoding in [(out_csv, "utf-8-sig"), (out_gb18030, "gb18030")]:
        with open(path, "w", encoding=encoding, newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
                w.writerow([shown(c.value) for c in row])
    if errors:
        print("\n".join(errors))
        return 1
    print(f"{ws.title}: {len(header)} columns, drop-downs "
          + ", ".join(f"{n} ({len(v)})" for n, v in expect["lists"].items())
          + f" over {rows_wanted} rows, {len(expect['dates'])} date columns, example row"
          " equal to the CSV template's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
