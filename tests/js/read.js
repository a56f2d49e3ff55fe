// Read workbooks with two independent JavaScript readers, SheetJS ("xlsx" on npm) and exceljs,
// in one process for all files (tests/test_readers.py).
//
//     node tests/js/read.js file1.xlsx file2.xlsm ...   -> JSON on stdout
//
// {"<file>": {"sheetjs": {"sheets": {"<name>": [[cell, ...], ...]}} | {"error": "..."},
//             "exceljs": ...}}
// Rows and columns from A1, null for an empty cell; a number, text or boolean as read; a date
// as its Excel serial number (SheetJS gives serials; exceljs a Date, converted back); a formula
// as its cached result.
"use strict";
const XLSX = require("xlsx");
const ExcelJS = require("exceljs");

function grid(cells) {
  // cells: [[row, col, value]] (0-based) -> rows of values
  const rows = [];
  for (const [r, c, v] of cells) {
    while (rows.length <= r) rows.push([]);
    const row = rows[r];
    while (row.length <= c) row.push(null);
    row[c] = v;
  }
  return rows;
}

function sheetjs(path) {
  const book = XLSX.readFile(path, { cellDates: false, cellFormula: false, cellStyles: false });
  const sheets = {};
  for (const name of book.SheetNames) {
    const ws = book.Sheets[name];
    const cells = [];
    for (const key of Object.keys(ws)) {
      if (key[0] === "!") continue;
      const cell = ws[key];
      if (cell.t === "z" || cell.v === undefined) continue;
      const at = XLSX.utils.decode_cell(key);
      cells.push([at.r, at.c, cell.t === "e" ? "#ERROR" : cell.v]);
    }
    sheets[name] = grid(cells);
  }
  return { sheets };
}

function serial(date) {
  return date.getTime() / 86400000 + 25569;   // exceljs reads a date cell as that UTC moment
}

function excelValue(v) {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return serial(v);
  if (typeof v === "object") {
    if (v.richText) return v.richText.map((t) => t.text).join("");
    if ("result" in v || "formula" in v || "sharedFormula" in v) return excelValue(v.result);
    if (v.error) return "#ERROR";
    if (v.text !== undefined) return v.text;   // hyperlink
    return JSON.stringify(v);
  }
  return v;
}

async function exceljs(path) {
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(path);
  const sheets = {};
  book.eachSheet((ws) => {
    const cells = [];
    ws.eachRow({ includeEmpty: false }, (row, r) => {
      row.eachCell({ includeEmpty: false }, (cell, c) => {
        const v = excelValue(cell.value);
        if (v !== null) cells.push([r - 1, c - 1, v]);
      });
    });
    sheets[ws.name] = grid(cells);
  });
  return { sheets };
}

async function main() {
  const out = {};
  for (const path of process.argv.slice(2)) {
    out[path] = {};
    try {
      out[path].sheetjs = sheetjs(path);
    } catch (e) {
      out[path].sheetjs = { error: String(e && e.message ? e.message : e) };
    }
    try {
      out[path].exceljs = await exceljs(path);
    } catch (e) {
      out[path].exceljs = { error: String(e && e.message ? e.message : e) };
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
