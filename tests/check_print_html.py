#!/usr/bin/env python3
"""The print rules of xxgkctl's HTML report, checked without a browser.

usage: check_print_html.py REPORT.html REPORT.json TITLE

Reads the page with html.parser (an independent reader) and checks: the title in <title> and
<h1>; an @page rule for A4; every table's header rows in its <thead>, which the style repeats
on each page (display: table-header-group); rows that do not break across pages (tr with
break-inside: avoid); table 三 laid out as the template (ten columns in every row: three label
columns and seven values) with every value equal to the JSON report's. Prints one line per
check; exits 1 at the first that fails.
"""
import json
import re
import sys
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.style = ""
        self.title = ""
        self.h1 = ""
        self.tables = []  # each: {"class", "thead": [rows], "tbody": [rows], "stray": n}
        self.stack = []
        self.cell = None
        self.row = None
        self.section = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append(tag)
        if tag == "table":
            self.tables.append({"class": a.get("class", ""), "thead": [], "tbody": [],
                                "stray": 0})
        elif tag in ("thead", "tbody"):
            self.section = tag
        elif tag == "tr" and self.tables:
            self.row = []
            if self.section is None:
                self.tables[-1]["stray"] += 1
        elif tag in ("td", "th") and self.row is not None:
            self.cell = {"tag": tag, "text": "", "rowspan": int(a.get("rowspan", 1)),
                         "colspan": int(a.get("colspan", 1))}

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.section:
                self.tables[-1][self.section].append(self.row)
            self.row = None
        elif tag in ("thead", "tbody"):
            self.section = None

    def handle_data(self, data):
        top = self.stack[-1] if self.stack else ""
        if self.cell is not None:
            self.cell["text"] += data
        elif top == "style":
            self.style += data
        elif top == "title":
            self.title += data
        elif top == "h1":
            self.h1 += data


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def ok(msg):
    print("ok: " + msg)


def css_rules(style):
    """selector -> declarations (lower case, no spaces), @page included."""
    rules = {}
    for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", style):
        decl = re.sub(r"\s+", "", body.lower())
        for s in sel.split(","):
            rules[s.strip()] = rules.get(s.strip(), "") + ";" + decl
    return rules


def grid_widths(rows):
    """The columns each row covers, rowspans carried down (the table's grid)."""
    carry = {}  # row index -> columns taken by cells spanning from above
    widths = []
    for i, row in enumerate(rows):
        w = carry.get(i, 0) + sum(c["colspan"] for c in row)
        for c in row:
            for k in range(1, c["rowspan"]):
                carry[i + k] = carry.get(i + k, 0) + c["colspan"]
        widths.append(w)
    return widths


def main():
    html_path, json_path, want_title = sys.argv[1:4]
    page = Page()
    with open(html_path, encoding="utf-8") as f:
        page.feed(f.read())
    with open(json_path, encoding="utf-8") as f:
        report = json.load(f)

    if page.title != want_title or page.h1 != want_title:
        fail("title %r, h1 %r, want %r" % (page.title, page.h1, want_title))
    ok("title and h1: " + want_title)

    rules = css_rules(page.style)
    at_page = rules.get("@page", "")
    if "size:a4" not in at_page:
        fail("no @page rule with size: A4 (%r)" % at_page)
    ok("@page " + at_page.strip(";"))
    if "display:table-header-group" not in rules.get("thead", ""):
        fail("thead is not display: table-header-group")
    if "break-inside:avoid" not in rules.get("tr", ""):
        fail("tr has no break-inside: avoid")
    ok("thead repeats on each page, tr never breaks across pages")

    if len(page.tables) < 3:
        fail("%d tables" % len(page.tables))
    for t in page.tables:
        if t["stray"] or not t["thead"] or not t["tbody"]:
            fail("table %s: rows outside thead/tbody or no thead" % t["class"])
        if any(c["tag"] != "th" for row in t["thead"] for c in row):
            fail("table %s: a data cell in thead" % t["class"])
    ok("%d tables, each with its header rows in thead" % len(page.tables))

    apps = [t for t in page.tables if t["class"] == "applications"]
    if len(apps) != 1:
        fail("no single table of class applications")
    t3 = apps[0]
    widths = grid_widths(t3["thead"]) + grid_widths(t3["tbody"])
    if set(widths) != {10}:
        fail("table 三 rows cover %s columns, want 10 each" % widths)
    cells = report["cells"]
    rows = []
    for key in cells:
        part = key.split(".")
        if part[0] == "applications" and part[1] not in rows:
            rows.append(part[1])
    if len(rows) != len(t3["tbody"]):
        fail("table 三 has %d rows, the report %d" % (len(t3["tbody"]), len(rows)))
    columns = ["natural_person", "commercial", "research", "public_interest", "legal_service",
               "other_org", "total"]
    for key, row in zip(rows, t3["tbody"]):
        values = [c["text"] for c in row if c["tag"] == "td"][-7:]
        want = [str(cells["applications.%s.%s" % (key, c)]) for c in columns]
        if values != want:
            fail("table 三 row %s: %s, the report has %s" % (key, values, want))
    ok("table 三: %d rows of 10 columns, every value the report's" % len(rows))


main()
