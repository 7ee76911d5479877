"""A post-mortem document (``selectors.postmortem_document``) as Markdown or PDF (fpdf2)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fpdf import FPDF

from nexusops.common.text import fmt

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


def _when(iso: str) -> str:
    return fmt(dt.datetime.fromisoformat(iso))


def _facts(doc: dict) -> list[tuple[str, str]]:
    users = doc["impact_users"]
    return [
        ("Severity", doc["severity"]),
        ("Detected", _when(doc["detected_at"])),
        ("Duration", doc["duration"]),
        ("Users affected", "unknown" if users is None else f"{users:,}"),
        ("Services", ", ".join(doc["services"]) or "none recorded"),
        ("Revision", str(doc["revision"])),
    ]


def to_markdown(doc: dict) -> str:
    lines = [f"# Post-mortem: {doc['number']} {doc['title']}", ""]
    lines += [f"- **{k}:** {v}" for k, v in _facts(doc)]
    for section in doc["sections"]:
        lines += ["", f"## {section['heading']}", "", section["text"].strip() or "_Not written._"]
    lines += ["", "## Timeline", ""]
    lines += [f"- {_when(e['at'])}: {e['text']}" for e in doc["timeline"]] or ["_None._"]
    lines += ["", "## Action items", ""]
    if doc["action_items"]:
        lines += ["| action | owner | due | priority | status |", "|---|---|---|---|---|"]
        for a in doc["action_items"]:
            text = a["description"].replace("|", "\\|").replace("\n", " ")
            if a["tracker_url"]:
                text = f"[{text}]({a['tracker_url']})"
            lines.append(
                f"| {text} | {a['owner']} | {a['due_date']} | {a['priority']} | {a['status']} |"
            )
    else:
        lines.append("_None._")
    return "\n".join(lines) + "\n"


class _PDF(FPDF):
    def __init__(self, doc: dict) -> None:
        super().__init__(format="A4")
        self._doc = doc
        if (FONT_DIR / "DejaVuSans.ttf").exists():
            self.add_font("body", "", str(FONT_DIR / "DejaVuSans.ttf"))
            self.add_font("body", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
            self.body_font = "body"
        else:  # core font: Latin-1 only, other characters are replaced
            self.body_font = "helvetica"
        self.set_auto_page_break(auto=True, margin=15)

    def clean(self, value: str) -> str:
        if self.body_font == "helvetica":
            return value.encode("latin-1", "replace").decode("latin-1")
        return value

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.body_font, "", 8)
        self.cell(0, 8, self.clean(f"{self._doc['number']} · page {self.page_no()}"), align="C")


def to_pdf(doc: dict) -> bytes:
    pdf = _PDF(doc)
    pdf.add_page()
    f = pdf.body_font
    pdf.set_font(f, "B", 16)
    pdf.multi_cell(
        0,
        8,
        new_x="LMARGIN",
        new_y="NEXT",
        text=pdf.clean(f"Post-mortem: {doc['number']} {doc['title']}"),
    )
    pdf.ln(2)
    pdf.set_font(f, "", 10)
    for key, value in _facts(doc):
        pdf.multi_cell(0, 5, new_x="LMARGIN", new_y="NEXT", text=pdf.clean(f"{key}: {value}"))
    for section in doc["sections"]:
        pdf.ln(3)
        pdf.set_font(f, "B", 13)
        pdf.multi_cell(0, 7, new_x="LMARGIN", new_y="NEXT", text=pdf.clean(section["heading"]))
        pdf.set_font(f, "", 10)
        pdf.multi_cell(
            0,
            5,
            new_x="LMARGIN",
            new_y="NEXT",
            text=pdf.clean(section["text"].strip() or "Not written."),
        )
    pdf.ln(3)
    pdf.set_font(f, "B", 13)
    pdf.multi_cell(0, 7, new_x="LMARGIN", new_y="NEXT", text="Timeline")
    pdf.set_font(f, "", 10)
    for e in doc["timeline"] or [{"at": None, "text": "None."}]:
        stamp = f"{_when(e['at'])}  " if e["at"] else ""
        pdf.multi_cell(0, 5, new_x="LMARGIN", new_y="NEXT", text=pdf.clean(f"{stamp}{e['text']}"))
    pdf.ln(3)
    pdf.set_font(f, "B", 13)
    pdf.multi_cell(0, 7, new_x="LMARGIN", new_y="NEXT", text="Action items")
    pdf.set_font(f, "", 10)
    for a in doc["action_items"] or []:
        line = (
            f"- {a['description']} (owner {a['owner']}, due {a['due_date']}, "
            f"{a['priority']}, {a['status']})"
        )
        if a["tracker_url"]:
            line += f" {a['tracker_url']}"
        pdf.multi_cell(0, 5, new_x="LMARGIN", new_y="NEXT", text=pdf.clean(line))
    if not doc["action_items"]:
        pdf.multi_cell(0, 5, new_x="LMARGIN", new_y="NEXT", text="None.")
    return bytes(pdf.output())
