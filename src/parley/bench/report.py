"""`report.html`: one self-contained page (inline CSS and SVG, no scripts, no network) per bench run.

Sections: the scorecard with the architectures side by side, the same axes broken down by caller
voice and by acoustic condition (where does an agent fail?), a latency CDF, and per conversation a
timeline (user and agent speech as bars on one time axis; barge-ins and backchannels marked), an
audio player for its recording (`<arch>/<scenario>/conversation.wav`, beside the page) and every
failed expectation with what the user actually heard.
"""

from __future__ import annotations

import html
from pathlib import Path

from parley.bench.scorecard import Conversation, turn_latencies
from parley.bench.turn_metrics import agent_intervals
from parley.events import Event

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}tr.axis td{background:#f3f3f3;font-weight:600;text-align:left}
.fail{color:#b00}.ok{color:#070}.muted{color:#777}details{margin:.4em 0}summary{cursor:pointer}
.checks td,.checks th{text-align:left;vertical-align:top}svg{background:#fafafa;border:1px solid #eee}
"""


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:.0f}"
    return html.escape(str(v))


def scorecard_table(card: dict) -> str:
    archs = list(card["architectures"])
    head = "".join(f"<th>{html.escape(a)}</th>" for a in archs)
    rows = []
    ran = [a for a in archs if "skipped" not in card["architectures"][a]]
    skipped = [a for a in archs if a not in ran]
    if skipped:
        cells = "".join(f"<td class='muted'>{html.escape(card['architectures'][a].get('skipped', ''))}</td>"
                        if a in skipped else "<td>ran</td>" for a in archs)
        rows.append(f"<tr><td>status</td>{cells}</tr>")
    first = card["architectures"][ran[0]] if ran else {}
    for axis in ("latency", "memory", "knowledge", "adherence", "turn_taking"):
        rows.append(f"<tr class='axis'><td colspan='{len(archs) + 1}'>{axis}</td></tr>")
        for key, val in first.get(axis, {}).items():
            subkeys = list(val) if isinstance(val, dict) else [None]
            for sub in subkeys:
                label = f"{key} {sub}" if sub is not None else key
                cells = []
                for a in archs:
                    v = card["architectures"][a].get(axis, {}).get(key)
                    cells.append(f"<td>{_fmt(v.get(sub) if isinstance(v, dict) else v)}</td>")
                rows.append(f"<tr><td>{html.escape(label)}</td>{''.join(cells)}</tr>")
    for key in ("conversations", "failures", "checks_failed"):
        cells = "".join(f"<td>{_fmt(card['architectures'][a].get(key))}</td>" for a in archs)
        rows.append(f"<tr><td>{key}</td>{cells}</tr>")
    cells = "".join(f"<td>{r['invented']} / {r['answers']}</td>" if (r := card["architectures"][a].get("recall_inventions"))
                    else "<td>–</td>" for a in archs)
    rows.append(f"<tr><td>recall answers inventing a value nobody gave</td>{cells}</tr>")
    if any("talker" in card["architectures"][a] for a in archs):
        cells = "".join(f"<td>{t['unsupported']} / {t['lines']}</td>" if (t := card["architectures"][a].get("talker"))
                        else "<td>–</td>" for a in archs)
        rows.append(f"<tr><td>talker lines claiming what the caller did not say</td>{cells}</tr>")
    return f"<table id='scorecard'><tr><th>metric</th>{head}</tr>{''.join(rows)}</table>"


def latency_cdf(results: dict[str, list[Conversation]], w: int = 640, h: int = 260) -> str:
    series = {}
    for arch, convs in results.items():
        lat = sorted(x for c in convs for x in turn_latencies(c.scenario, c.events)[0])
        if lat:
            series[arch] = lat
    if not series:
        return "<p class='muted'>no replies to measure</p>"
    xmax = max(max(v) for v in series.values()) * 1.05 or 1.0
    pad = 40
    parts = [f"<svg id='latency-cdf' width='{w}' height='{h}' role='img' aria-label='latency CDF'>"]
    for ms in _ticks(xmax):
        x = pad + (w - 2 * pad) * ms / xmax
        parts.append(f"<line x1='{x:.1f}' y1='{pad / 2}' x2='{x:.1f}' y2='{h - pad}' stroke='#e5e5e5'/>"
                     f"<text x='{x:.1f}' y='{h - pad + 14}' font-size='11' text-anchor='middle'>{ms:.0f}</text>")
    parts.append(f"<text x='{w / 2}' y='{h - 6}' font-size='11' text-anchor='middle'>ms from end of user audio "
                 "to first agent audio</text>")
    for i, (arch, lat) in enumerate(series.items()):
        pts = []
        for k, v in enumerate(lat):
            x = pad + (w - 2 * pad) * v / xmax
            y0 = (h - pad) - (h - 1.5 * pad) * k / len(lat)
            y1 = (h - pad) - (h - 1.5 * pad) * (k + 1) / len(lat)
            pts += [f"{x:.1f},{y0:.1f}", f"{x:.1f},{y1:.1f}"]
        color = COLORS[i % len(COLORS)]
        parts.append(f"<polyline fill='none' stroke='{color}' stroke-width='2' points='{' '.join(pts)}'/>")
        parts.append(f"<text x='{pad + 8}' y='{pad / 2 + 14 * (i + 1)}' fill='{color}' font-size='12'>"
                     f"{html.escape(arch)} (n={len(lat)})</text>")
    parts.append("</svg>")
    return "".join(parts)


def _ticks(xmax: float) -> list[float]:
    step = next(s for s in (100, 200, 250, 500, 1000, 2000, 5000, 10000) if xmax / s <= 8)
    return [k * step for k in range(int(xmax // step) + 1)]


def timeline(events: list[Event], w: int = 1000) -> str:
    if not events:
        return "<p class='muted'>no events</p>"
    t_end = max(e.t for e in events) or 1.0
    sx = (w - 20) / t_end

    def x(t: float) -> float:
        return 10 + t * sx

    parts = [f"<svg class='timeline' width='{w}' height='92'>",
             "<text x='10' y='12' font-size='11'>user</text><text x='10' y='52' font-size='11'>agent</text>"]
    for e in events:
        if e.kind == "sim_utterance":
            parts.append(f"<rect x='{x(e.start):.1f}' y='16' width='{max(1.0, (e.end - e.start) * sx):.1f}' height='16'"
                         f" fill='#4c78a8'><title>{html.escape(e.text)}</title></rect>")
    for a, b, turn in agent_intervals(events):
        bc = turn == 0
        parts.append(f"<rect x='{x(a):.1f}' y='56' width='{max(1.0, (b - a) * sx):.1f}' height='16' "
                     f"fill='{'#9ecae1' if bc else '#f58518'}'/>")
    for e in events:
        if e.kind == "agent_audio_stopped" and e.reason == "barge_in":
            parts.append(f"<line x1='{x(e.t):.1f}' y1='14' x2='{x(e.t):.1f}' y2='76' stroke='#d62728' stroke-width='2'>"
                         "<title>barge-in: agent stopped</title></line>")
        elif e.kind == "backchannel":
            y = 40 if e.source == "user" else 80
            parts.append(f"<circle cx='{x(e.t):.1f}' cy='{y}' r='4' fill='#54a24b'><title>{e.source} backchannel: "
                         f"{html.escape(e.text)}</title></circle>")
    for s in range(0, int(t_end) + 1, 5):
        parts.append(f"<text x='{x(s):.1f}' y='90' font-size='9' fill='#888'>{s}s</text>")
    parts.append("</svg>")
    return "".join(parts)


def conversation_section(arch: str, conv: Conversation) -> str:
    sc = conv.scenario
    failed = [c for c in conv.checks if not c.passed]
    status = (f"<span class='fail'>crashed: {html.escape(conv.error)}</span>" if conv.error else
              f"<span class='{'fail' if failed else 'ok'}'>{len(conv.checks) - len(failed)}/{len(conv.checks)} checks</span>")
    rows = "".join(
        f"<tr><td>{c.turn}</td><td>{html.escape(c.kind)}</td><td>{html.escape(c.expected)}</td>"
        f"<td>{html.escape(c.heard) or '<i>nothing</i>'}</td></tr>" for c in failed)
    checks = (f"<table class='checks'><tr><th>turn</th><th>check</th><th>expected</th><th>heard</th></tr>{rows}</table>"
              if failed else "")
    folder = f"{arch}/{conv.key}"
    return (f"<details><summary><b>{html.escape(conv.key)}</b> — {html.escape(sc.title)} · "
            f"<span class='muted'>{html.escape(conv.voice)}, {html.escape(conv.condition)}</span> · {status}</summary>"
            f"{timeline(conv.events)}<br><audio controls preload='none' src='{html.escape(folder)}/conversation.wav'></audio>"
            f" <a href='{html.escape(folder)}/transcript.md'>transcript</a>{checks}</details>")


BREAKDOWN = (("latency", "p50_ms"), ("latency", "content_p50_ms"), ("memory", "accuracy"), ("knowledge", "accuracy"),
             ("adherence", "accuracy"), ("turn_taking", "pause_tor"), ("turn_taking", "fdb_pause_tor"),
             ("turn_taking", "smooth_tor"), ("turn_taking", "fdb_smooth_tor"), ("turn_taking", "fdb_smooth_latency_ms"),
             ("turn_taking", "interruption_tor"), ("turn_taking", "fdb_interruption_tor"),
             ("turn_taking", "monologue_tor"), ("turn_taking", "fdb_backchannel_tor"),
             (None, "checks_failed"), (None, "conversations"))


def breakdown_table(arch: str, groups: dict[str, dict], dim: str) -> str:
    """One architecture's axes per voice (or per condition), side by side."""
    names = list(groups)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for axis, key in BREAKDOWN:
        cells = "".join(f"<td>{_fmt((groups[n].get(axis, {}) if axis else groups[n]).get(key))}</td>" for n in names)
        rows.append(f"<tr><td>{html.escape(f'{axis} {key}' if axis else key)}</td>{cells}</tr>")
    return (f"<table class='breakdown' id='by-{dim}-{html.escape(arch)}'><tr><th>{html.escape(arch)} by {dim}</th>"
            f"{head}</tr>{''.join(rows)}</table>")


def render(card: dict, results: dict[str, list[Conversation]]) -> str:
    body = [f"<h1>parley bench</h1><p>suites: {html.escape(', '.join(card['suites']))}</p>",
            "<h2>Scorecard</h2>", scorecard_table(card)]
    for dim, key in (("voice", "by_voice"), ("condition", "by_condition")):
        tables = [breakdown_table(arch, c[key], dim) for arch, c in card["architectures"].items() if key in c]
        if tables:
            body += [f"<h2>By {dim}</h2>"] + tables
    body += ["<h2>Latency CDF</h2>", latency_cdf(results)]
    for arch, convs in results.items():
        body.append(f"<h2>Conversations — {html.escape(arch)}</h2>")
        body += [conversation_section(arch, c) for c in convs]
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>parley bench</title>"
            f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>")


def write_report(out: Path, card: dict, results: dict[str, list[Conversation]]) -> Path:
    path = out / "report.html"
    path.write_text(render(card, results), encoding="utf-8")
    return path
