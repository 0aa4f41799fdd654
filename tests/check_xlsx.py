#!/usr/bin/env python3
"""Reads an xlsx report with openpyxl (Debian's python3-openpyxl, not the writer's library) and
checks it against the JSON report of the same year and scope:

    check_xlsx.py REPORT.xlsx REPORT.json

Every cell of the JSON is found in the sheet under its template's row and column labels, with
the same value (amounts: fen in the JSON, 万元 rounded to the yuan in the sheet); no number in
the sheet is left over; the template's merged header ranges, number formats and A4 print setup
are there. The template is written out here from DOMAIN.md on purpose, independent of cells.def.
Prints one line per sheet and exits 0, or prints what differs and exits 1.
"""
import json
import sys

import openpyxl

SHEETS = ["二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
          "四、政府信息公开行政复议、行政诉讼情况"]

PRO_ROWS = {
    2019: {"规章": "rules", "规范性文件": "normdocs", "行政许可": "licensing",
           "其他对外管理服务事项": "othersvc", "行政处罚": "penalty", "行政强制": "coercion",
           "行政事业性收费": "fees", "政府集中采购": "procurement"},
    2021: {"规章": "rules", "行政规范性文件": "normdocs", "行政许可": "licensing",
           "行政处罚": "penalty", "行政强制": "coercion", "行政事业性收费": "fees"},
}
PRO_COLUMNS = {
    2019: {"本年新制作数量": "new_made", "本年新公开数量": "new_published",
           "对外公开总数量": "published_total", "上一年项目数量": "items_prev",
           "本年增/减": "items_delta", "处理决定数量": "decisions",
           "采购项目数量": "projects", "采购总金额（万元）": "amount"},
    2021: {"本年制发件数": "made", "本年废止件数": "repealed", "现行有效件数": "in_force",
           "本年处理决定数量": "decisions", "本年收费金额（单位：万元）": "amount"},
}
PRO_ITEMS = {
    2019: ["第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项",
           "第二十条第（八）项", "第二十条第（九）项"],
    2021: ["第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项",
           "第二十条第（八）项"],
}
MONEY = {"proactive.fees.amount", "proactive.procurement.amount"}

APP_COLUMNS = {"自然人": "natural_person", "商业企业": "commercial", "科研机构": "research",
               "社会公益组织": "public_interest", "法律服务机构": "legal_service",
               "其他": "other_org", "总计": "total"}
APP_ROWS_COMMON = {
    "一、本年新收政府信息公开申请数量": "new_received",
    "二、上年结转政府信息公开申请数量": "carried_in",
    "（一）予以公开": "granted",
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）": "partial",
    "1.属于国家秘密": "denied_state_secret",
    "2.其他法律行政法规禁止公开": "denied_law_prohibited",
    "3.危及“三安全一稳定”": "denied_security_stability",
    "4.保护第三方合法权益": "denied_third_party",
    "5.属于三类内部事务信息": "denied_internal_affairs",
    "6.属于四类过程性信息": "denied_process_info",
    "7.属于行政执法案卷": "denied_enforcement_file",
    "8.属于行政查询事项": "denied_admin_inquiry",
    "1.本机关不掌握相关政府信息": "unable_not_held",
    "2.没有现成信息需要另行制作": "unable_needs_creation",
    "3.补正后申请内容仍不明确": "unable_still_unclear",
    "1.信访举报投诉类申请": "notproc_petition",
    "2.重复申请": "notproc_repeat",
    "3.要求提供公开出版物": "notproc_publication",
    "4.无正当理由大量反复申请": "notproc_excessive",
    "5.要求行政机关确认或重新出具已获取信息": "notproc_confirm_reissue",
    "（七）总计": "concluded_total",
    "四、结转下年度继续办理": "carried_out",
}
APP_ROWS = {
    2019: dict(APP_ROWS_COMMON, **{"（六）其他处理": "other"}),
    2021: dict(APP_ROWS_COMMON, **{
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请": "other_no_correction",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请":
            "other_fee_unpaid",
        "3.其他": "other_misc"}),
}
CASE_GROUPS = ["review", "lit_direct", "lit_after_review"]
CASE_COLUMNS = {"结果维持": "upheld", "结果纠正": "corrected", "其他结果": "other",
                "尚未审结": "pending", "总计": "total"}

# The template's merged ranges, every one of them (title and table heading rows included).
MERGED = {
    2019: [
        ["A1:D1", "A2:D2", "A3:D3", "A7:D7", "A11:D11", "A15:D15", "C16:D16", "C17:D17",
         "A18:D18", "C19:D19", "C20:D20"],
        ["A1:J1", "A2:J2", "A3:C5", "D3:J3", "D4:D5", "E4:I4", "J4:J5", "A6:C6", "A7:C7",
         "A8:A27", "B8:C8", "B9:C9", "B10:B17", "B18:B20", "B21:B25", "B26:C26", "B27:C27",
         "A28:C28"],
        ["A1:O1", "A2:O2", "A3:E4", "F3:O3", "F4:J4", "K4:O4", "A8:O8"],
    ],
    2021: [
        ["A1:D1", "A2:D2", "A3:D3", "A7:D7", "B8:D8", "B9:D9", "A10:D10", "B11:D11",
         "B12:D12", "B13:D13", "A14:D14", "B15:D15", "B16:D16"],
        ["A1:J1", "A2:J2", "A3:C5", "D3:J3", "D4:D5", "E4:I4", "J4:J5", "A6:C6", "A7:C7",
         "A8:A29", "B8:C8", "B9:C9", "B10:B17", "B18:B20", "B21:B25", "B26:B28", "B29:C29",
         "A30:C30"],
        ["A1:O1", "A2:O2", "A3:E4", "F3:O3", "F4:J4", "K4:O4", "A8:O8"],
    ],
}
ORIENTATION = ["portrait", "landscape", "landscape"]

errors = []


def fail(msg):
    errors.append(msg)


def yuan_of_fen(fen):
    a = (abs(fen) + 50) // 100
    return -a if fen < 0 else a


def check_value(ws, cell, key, cells, seen):
    if key not in cells:
        fail(f"{ws.title}!{cell.coordinate}: {key} is no cell of the JSON report")
        return
    seen.add(key)
    v, want = cell.value, cells[key]
    if key in MONEY:
        if not isinstance(v, (int, float)) or round(v * 10000) != yuan_of_fen(want):
            fail(f"{ws.title}!{cell.coordinate} ({key}): {v!r} 万元, JSON {want} fen")
        if cell.number_format != "0.0000":
            fail(f"{ws.title}!{cell.coordinate} ({key}): number format {cell.number_format!r}")
    else:
        if not isinstance(v, int) or v != want:
            fail(f"{ws.title}!{cell.coordinate} ({key}): {v!r}, JSON {want}")
        if cell.number_format != "0":
            fail(f"{ws.title}!{cell.coordinate} ({key}): number format {cell.number_format!r}")


def numbers(ws):
    return {c.coordinate for row in ws.iter_rows() for c in row
            if isinstance(c.value, (int, float)) and not isinstance(c.value, bool)}


def check_proactive(ws, t, cells, seen):
    used, headers, items = set(), {}, []
    for row in ws.iter_rows(min_row=3):
        first = row[0].value
        if first in PRO_ITEMS[t]:
            items.append(first)
        elif first == "信息内容":
            headers = {}
            for c in row[1:]:
                if c.value is not None:
                    if c.value not in PRO_COLUMNS[t]:
                        fail(f"{ws.title}!{c.coordinate}: column {c.value!r} not in the template")
                    headers[c.column] = PRO_COLUMNS[t].get(c.value)
        elif first in PRO_ROWS[t]:
            for col, ckey in headers.items():
                c = ws.cell(row=row[0].row, column=col)
                check_value(ws, c, f"proactive.{PRO_ROWS[t][first]}.{ckey}", cells, seen)
                used.add(c.coordinate)
        elif first is not None:
            fail(f"{ws.title}!{row[0].coordinate}: {first!r} is no row of the template")
    if items != PRO_ITEMS[t]:
        fail(f"{ws.title}: items {items}, the template has {PRO_ITEMS[t]}")
    return used


def check_applications(ws, t, cells, seen):
    used, columns, rows = set(), {}, []
    if ws["A3"].value != "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）":
        fail(f"{ws.title}!A3: {ws['A3'].value!r}")
    if ws["D3"].value != "申请人情况" or ws["E4"].value != "法人或其他组织":
        fail(f"{ws.title}: D3 {ws['D3'].value!r}, E4 {ws['E4'].value!r}")
    for coord in ["D4", "E5", "F5", "G5", "H5", "I5", "J4"]:
        columns[ws[coord].column] = APP_COLUMNS.get(ws[coord].value)
    if list(columns.values()) != list(APP_COLUMNS.values()):
        fail(f"{ws.title}: applicant columns {list(columns.values())}")
    for row in ws.iter_rows(min_row=6, max_col=3):
        label = next((c.value for c in reversed(row) if c.value is not None), None)
        if label is None:
            continue
        rkey = APP_ROWS[t].get(label)
        if rkey is None:
            fail(f"{ws.title}!{row[0].row}: {label!r} is no row of the template")
            continue
        rows.append(rkey)
        for col, ckey in columns.items():
            c = ws.cell(row=row[0].row, column=col)
            check_value(ws, c, f"applications.{rkey}.{ckey}", cells, seen)
            used.add(c.coordinate)
    if sorted(rows) != sorted(APP_ROWS[t].values()):
        fail(f"{ws.title}: rows {rows}")
    for coord, want in [("A8", "三、本年度办理结果"), ("B10", "（三）不予公开"),
                        ("B18", "（四）无法提供"), ("B21", "（五）不予处理")] + (
            [("B26", "（六）其他处理")] if t == 2021 else []):
        if ws[coord].value != want:
            fail(f"{ws.title}!{coord}: {ws[coord].value!r}, want {want!r}")
    return used


def check_reviews(ws, cells, seen, silent):
    used = set()
    for coord, want in [("A3", "行政复议"), ("F3", "行政诉讼"), ("F4", "未经复议直接起诉"),
                        ("K4", "复议后起诉")]:
        if ws[coord].value != want:
            fail(f"{ws.title}!{coord}: {ws[coord].value!r}, want {want!r}")
    for i in range(15):
        head, c = ws.cell(row=5, column=1 + i), ws.cell(row=6, column=1 + i)
        ckey = CASE_COLUMNS.get(head.value)
        if ckey != list(CASE_COLUMNS.values())[i % 5]:
            fail(f"{ws.title}!{head.coordinate}: {head.value!r}")
            continue
        check_value(ws, c, f"reviews.{CASE_GROUPS[i // 5]}.{ckey}", cells, seen)
        used.add(c.coordinate)
    note = ws["A8"].value or ""
    if not note.startswith(f"本年度未报送数据的单位（{len(silent)}）："):
        fail(f"{ws.title}!A8: {note!r}")
    for u in silent:
        if u["name"] not in note:
            fail(f"{ws.title}!A8 does not name the silent unit {u['name']}")
    return used


def main():
    path, json_path = sys.argv[1], sys.argv[2]
    report = json.load(open(json_path, encoding="utf-8"))
    t, cells = report["template"], report["cells"]
    wb = openpyxl.load_workbook(path)
    if wb.sheetnames != SHEETS:
        fail(f"sheets {wb.sheetnames}, want {SHEETS}")
        print("\n".join(errors))
        return 1
    seen = set()
    checks = [lambda ws: check_proactive(ws, t, cells, seen),
              lambda ws: check_applications(ws, t, cells, seen),
              lambda ws: check_reviews(ws, cells, seen, report["silent_units"])]
    for i, ws in enumerate(wb.worksheets):
        title = ws["A1"].value or ""
        if (f"{report.get('region', '')}{report['year']}年" not in title
                or "政府信息公开工作年度报告统计表" not in title):
            fail(f"{ws.title}!A1: title {title!r}")
        if ws["A2"].value != SHEETS[i]:
            fail(f"{ws.title}!A2: {ws['A2'].value!r}")
        merged = sorted(str(r) for r in ws.merged_cells.ranges)
        if merged != sorted(MERGED[t][i]):
            fail(f"{ws.title}: merged {merged}, want {sorted(MERGED[t][i])}")
        ps = ws.page_setup
        if str(ps.paperSize) != "9" or ps.orientation != ORIENTATION[i]:
            fail(f"{ws.title}: paper {ps.paperSize!r} {ps.orientation!r}, want A4 (9) "
                 f"{ORIENTATION[i]}")
        # fitToWidth is left out when it is 1, its default in ECMA-376
        if not ws.sheet_properties.pageSetUpPr.fitToPage or \
                str(ps.fitToWidth or 1) != "1" or str(ps.fitToHeight) != "0":
            fail(f"{ws.title}: not fitted to the page width ({ps.fitToWidth}x{ps.fitToHeight})")
        used = checks[i](ws)
        extra = numbers(ws) - used
        if extra:
            fail(f"{ws.title}: numbers outside the template's cells at {sorted(extra)}")
        print(f"{ws.title}: {len(used)} cells, {len(merged)} merged ranges, A4 {ps.orientation}")
    missing = set(cells) - seen
    if missing:
        fail(f"cells of the JSON report not in the workbook: {sorted(missing)}")
    if errors:
        print("\n".join(errors))
        return 1
    print(f"xlsx {report['year']} template {t}: all {len(cells)} cells equal the JSON report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
