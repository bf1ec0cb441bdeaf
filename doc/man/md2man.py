# SPDX-License-Identifier: MIT
"""Turns one of fdkit's markdown pages into a man page (roff with the man macros), so the
page a user reads with man(1) is rebuilt from the same text as the guide on every build.

usage: md2man.py VERSION INPUT.md OUTPUT

The page starts with '# NAME(SECTION)'. The subset of markdown it understands is what the
pages use: '##' sections and '###' subsections, paragraphs, '- ' lists, fenced code blocks,
tables (one .TP entry per row: the first cell as tag, the other cells as text), and inline
**bold**, *italic*, `code` and [links](target); HTML comments are dropped. Anything else is
kept as plain text.
"""
import re
import sys


def escape(text):
    """Roff-escapes plain text: backslashes, minus signs, and every non-ASCII character."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)


def inline(text):
    """Markdown inline markup to roff font changes."""
    out, i = [], 0
    pattern = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s][^*]*)\*|\[([^\]]+)\]\(([^)]+)\)")
    for m in pattern.finditer(text):
        out.append(escape(text[i:m.start()]))
        code, bold, italic, label = m.group(1), m.group(2), m.group(3), m.group(4)
        if code is not None:
            out.append(r"\fB" + escape(code) + r"\fR")
        elif bold is not None:
            out.append(r"\fB" + inline(bold) + r"\fR")
        elif italic is not None:
            out.append(r"\fI" + inline(italic) + r"\fR")
        else:
            out.append(inline(label))
        i = m.end()
    out.append(escape(text[i:]))
    return "".join(out)


def line(text):
    """A text line that roff cannot take for a request."""
    return "\\&" + text if text.startswith((".", "'")) else text


def cells(row):
    """The cells of a table row; '\\|' is a '|' inside a cell."""
    inner = row.strip()[1:].rstrip("|") if not row.strip().endswith("\\|") else row.strip()[1:]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def convert(version, lines):
    title = re.match(r"#\s+(\S+)\((\d)\)\s*$", lines[0])
    if not title:
        raise SystemExit(f"md2man: the first line must be '# NAME(SECTION)', not {lines[0]!r}")
    name, section = title.groups()
    manual = "General Commands Manual" if section == "1" else "Library Functions Manual"
    out = [f'.TH {name.upper()} {section} "" "fdkit {version}" "{manual}"']
    section_name, i = "", 1
    while i < len(lines):
        text = lines[i]
        if not text.strip():
            i += 1
        elif text.startswith("<!--"):
            while "-->" not in lines[i]:
                i += 1
            i += 1
        elif text.startswith("## "):
            section_name = text[3:].strip().upper()
            out.append(".SH " + escape(section_name))
            i += 1
        elif text.startswith("### "):
            out.append(".SS " + inline(text[4:].strip()))
            i += 1
        elif text.startswith("```"):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            out += [".PP", ".RS 4", ".nf"] + [line(escape(t)) for t in lines[i + 1:end]] + [".fi", ".RE"]
            i = end + 1
        elif text.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(cells(lines[i]))
                i += 1
            body = rows
            if len(rows) > 1 and set("".join(rows[1])) <= set("-: "):
                body = rows[2:]
                out += [".PP", line(r"\fB" + inline(rows[0][0]) + r"\fR: " + inline("; ".join(rows[0][1:])))]
            for row in body:
                out += [".TP", line(inline(row[0])), line(inline("; ".join(row[1:])))]
        elif text.startswith("- "):
            item = [text[2:]]
            i += 1
            while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                item.append(lines[i].strip())
                i += 1
            out += [".IP \\(bu 2", line(inline(" ".join(item)))]
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("#", "```", "|", "- ", "<!--")):
                para.append(lines[i].strip())
                i += 1
            joined = " ".join(para)
            if section_name == "NAME":
                # whatis(1) and lexgrog(1) read "name \- description".
                subject, _, description = joined.partition(" — ")
                out.append(line(escape(subject) + " \\- " + inline(description)))
            else:
                out += [".PP", line(inline(joined))]
    return "\n".join(out) + "\n"


def main():
    version, source, target = sys.argv[1:4]
    with open(source, encoding="utf-8") as f:
        text = convert(version, f.read().split("\n"))
    with open(target, "w", encoding="ascii") as f:
        f.write(text)


if __name__ == "__main__":
    main()
