"""The printed document, as a reader sees the PDF: numbered pages, text at 12 points or more that
stays inside the page, no box cut in two by a page break, the signatures on a page of their own
before the legal basis; and the stylesheet it is printed with, which arrives whole in the page
and cannot end its <style> element."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import itertools
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import AS_OF, PROFILE, ROOT
from consentgen import Request, build_document, render

weasyprint = pytest.importorskip("weasyprint")
pypdf = pytest.importorskip("pypdf")

tinycss2 = pytest.importorskip("tinycss2")  # WeasyPrint's CSS parser
tinyhtml5 = pytest.importorskip("tinyhtml5")  # WeasyPrint's HTML parser (HTML5's own rules)

from weasyprint.formatting_structure import boxes  # noqa: E402

XHTML = "{http://www.w3.org/1999/xhtml}"
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml, when the PyYAML build has it

TWELVE_POINTS = 16.0  # CSS pixels, as WeasyPrint computes font-size: 1pt = 4/3 px
LONG_URL = "https://harborlight.example/" + "noticeofprivacypractices" * 7 + "2026"
WAITING_ROOM = (  # a list item of ten lines or so
    "The waiting room is shared with two other practices on this floor, so the front desk sits "
    "away from the seats, and staff greet each client by first name only. A white-noise machine "
    "runs by every door. Magazines and a water cooler are there for you, and the restroom key "
    "hangs by the desk. If you would rather not wait with others, tell me and I will meet you at "
    "the side door instead, or you can wait in your car and I will text you when I am ready. "
    "The hallway outside the therapy rooms is closed to the public, and the other practices' "
    "staff do not enter it. Sign-in sheets are not used: the front desk checks you in by "
    "appointment time only, and no list of the day's clients is kept where others can see it."
)

FAMILY = ("Ana Ruiz", "Luis Ruiz", "Eva Ruiz", "Tom Ruiz")
REQUESTS = {
    "CA couples": Request(state="CA", setting="couples", clients=("Alex Doe", "Sam Roe")),
    "NY minor": Request(state="NY", setting="minor", clients=("Riley Doe",), guardians=("Pat",)),
    "TX family, long values": Request(state="TX", setting="family", clients=FAMILY),
}


@dataclasses.dataclass
class Printed:
    html: str
    pdf: Any  # pypdf.PdfReader of the PDF that consentgen writes
    layout: Any  # weasyprint Document: the same page laid out, boxes and computed styles


@pytest.fixture(scope="module")
def long_url_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test profile, with a 200-character web address in a sentence the document prints,
    and a long description of the waiting room (an item in a list)."""
    assert len(LONG_URL) == 200
    profile = yaml.safe_load(PROFILE.read_text())
    profile["practice"]["website"] = LONG_URL
    profile["practice"]["privacy_notice"] = f"My Notice of Privacy Practices is at {LONG_URL}."
    profile["office"]["waiting_room"] = WAITING_ROOM
    path = tmp_path_factory.mktemp("profile") / "practice.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory, long_url_profile: Path) -> dict[str, Printed]:
    out = {}
    with pytest.MonkeyPatch.context() as mp:  # the autouse fixture is per test, this per module
        mp.delenv("CONSENTGEN_PATH", raising=False)
        mp.setenv("CONSENTGEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        for label, request in REQUESTS.items():
            practice = long_url_profile if "long values" in label else PROFILE
            request = dataclasses.replace(request, as_of=dt.date.fromisoformat(AS_OF))
            doc = build_document(request, practice=practice)
            html = render(doc, "html")
            pdf = pypdf.PdfReader(io.BytesIO(render(doc, "pdf")))
            out[label] = Printed(html, pdf, weasyprint.HTML(string=html).render())
    return out


@pytest.fixture(params=list(REQUESTS))
def document(request: pytest.FixtureRequest, printed: dict[str, Printed]) -> Printed:
    return printed[request.param]


def _elements(html: str) -> tuple[list[str], list[str]]:
    """The tags of a page's elements as a browser parses it, and the text of its <style>s."""
    root = tinyhtml5.parse(html)
    tags = [element.tag.removeprefix(XHTML) for element in root.iter()]
    return tags, [element.text or "" for element in root.iter(f"{XHTML}style")]


# --- What the layout holds ------------------------------------------------------------------


def _content(page: Any) -> Iterator[Any]:
    """Every box of a laid-out page's content: not its margin boxes (the page number)."""
    for child in page._page_box.children:
        if not isinstance(child, boxes.MarginBox):
            yield from child.descendants()


def _boxes(printed: Printed) -> Iterator[tuple[int, Any]]:
    """Every box of the content of every page, with the page's number."""
    for number, page in enumerate(printed.layout.pages, 1):
        for box in _content(page):
            yield number, box


def _text_boxes(printed: Printed) -> Iterator[tuple[int, Any]]:
    for number, box in _boxes(printed):
        if isinstance(box, boxes.TextBox) and box.text.strip():
            yield number, box


def _pages_of(printed: Printed) -> dict[Any, set[int]]:
    """Each element of the page, with the pages its boxes are on."""
    pages = defaultdict(set)
    for number, page in enumerate(printed.layout.pages, 1):
        for box in _content(page):
            if box.element is not None and not isinstance(box, boxes.TextBox):
                pages[box.element].add(number)
    return pages


def _blocks(printed: Printed) -> Iterator[tuple[int, Any]]:
    """The document's top-level blocks (headings, paragraphs, lists...) in order, with the page
    each starts on."""
    seen = set()
    for number, page in enumerate(printed.layout.pages, 1):
        for box in _content(page):
            if box.element_tag == "main":
                for child in box.children:
                    if child.element not in seen:
                        seen.add(child.element)
                        yield number, child


# --- Tests ----------------------------------------------------------------------------------


@pytest.mark.slow  # renders four PDFs: run in CI (.ci/run: pytest -m slow)
def test_every_page_ends_with_its_number_and_the_number_of_pages(document):
    pages = document.pdf.pages
    assert len(pages) > 3
    for number, page in enumerate(pages, 1):
        lines = [line.strip() for line in page.extract_text().splitlines()]
        lines = [line for line in lines if line not in ("", "•")]  # list markers come last
        assert lines[-1] == f"Page {number} of {len(pages)}", (number, lines[-3:])


@pytest.mark.slow  # lays out PDFs with WeasyPrint, seconds: run in CI (pytest -m slow)
def test_the_stylesheet_arrives_in_the_page_as_written(printed):
    css = (Path(__file__).parents[1] / "templates" / "print.css").read_text()
    for document in printed.values():
        _, (style,) = _elements(document.html)
        assert style.strip() == css.strip()
        assert "&#34;" not in style and "&quot;" not in style and "&amp;" not in style
        assert 'content: "Page " counter(page) " of " counter(pages)' in style


@pytest.mark.slow  # lays out PDFs with WeasyPrint, seconds: run in CI (pytest -m slow)
def test_body_text_is_at_least_12_points(document):
    sizes = {(box.element_tag, box.style["font_size"]) for _, box in _text_boxes(document)}
    assert {"p", "li"} <= {tag for tag, _ in sizes}
    small = {(tag, round(size * 0.75, 2)) for tag, size in sizes if size < TWELVE_POINTS - 1e-6}
    assert not small, f"text under 12 points (tag, points): {sorted(small)}"


@pytest.mark.slow  # lays out PDFs with WeasyPrint, seconds: run in CI (pytest -m slow)
def test_no_text_runs_past_the_edge_of_the_page(printed):
    outside = []
    for label, document in printed.items():
        for number, box in _text_boxes(document):
            page = document.layout.pages[number - 1]._page_box
            left = page.margin_left
            right = page.margin_width() - page.margin_right
            if box.position_x < left - 0.5 or box.position_x + box.width > right + 0.5:
                outside.append((label, number, box.text[:60]))
    assert not outside, f"text outside the page's margins: {outside[:5]}"


@pytest.mark.slow  # lays out PDFs with WeasyPrint, seconds: run in CI (pytest -m slow)
def test_a_long_web_address_wraps_onto_the_next_lines(printed):
    document = printed["TX family, long values"]
    text = "\n".join(page.extract_text() for page in document.pdf.pages)
    lines = text.splitlines()
    assert LONG_URL in "".join(lines)  # all of it is printed
    # Its last 172 characters hold no place where a line may break (as after a slash): they
    # go on the lines after, not past the edge of the page.
    tail = LONG_URL.rsplit("/", 1)[1]
    assert not any(tail in line for line in lines)
    assert all(len(line) < 100 for line in lines if "noticeofprivacypractices" in line)


def _split_boxes_and_lone_headings(printed: Printed) -> list[tuple[str, str, str]]:
    pages = _pages_of(printed)
    found = [
        (element.tag, "".join(element.itertext())[:60], f"pages {sorted(numbers)}")
        for element, numbers in pages.items()
        if element.tag in ("blockquote", "li", "tr", "h1", "h2", "h3") and len(numbers) > 1
    ]
    for (number, box), (next_number, _) in itertools.pairwise(_blocks(printed)):
        if box.element_tag in ("h1", "h2", "h3") and next_number != number:
            found.append((box.element_tag, box.element.text or "", f"alone on page {number}"))
    return found


@pytest.mark.slow  # lays out PDFs with WeasyPrint, seconds: run in CI (pytest -m slow)
def test_no_box_is_split_across_pages_and_headings_stay_with_their_text(printed):
    """In each document; and with the long item about the waiting room moved down (by its top
    margin) until the page would end halfway through it: it starts the next page instead."""
    for label, document in printed.items():
        assert not _split_boxes_and_lone_headings(document), label
    document = printed["TX family, long values"]
    html = document.html
    assert html.count(WAITING_ROOM[:40]) == 1
    at = html.rindex("<li>", 0, html.index(WAITING_ROOM[:40]))
    (number, item), *_ = (
        (number, box)
        for number, box in _boxes(document)
        if box.element_tag == "li" and WAITING_ROOM[:40] in "".join(box.element.itertext())
    )
    page = document.layout.pages[number - 1]._page_box
    bottom = page.margin_height() - page.margin_bottom
    assert item.border_height() > 8 * 16 * 1.45  # eight lines or more
    margin = bottom - item.border_height() / 2 - item.position_y
    assert margin > 0
    html = f'{html[:at]}<li style="margin-top: {margin:.1f}px">{html[at + 4 :]}'
    moved = Printed(html, None, weasyprint.HTML(string=html).render())
    assert not _split_boxes_and_lone_headings(moved)
    assert len(moved.layout.pages) >= len(document.layout.pages)


@pytest.mark.slow  # lays out PDFs with WeasyPrint, seconds: run in CI (pytest -m slow)
def test_the_signatures_have_a_numbered_page_of_their_own_before_the_legal_basis(document):
    pages = _pages_of(document)
    blocks = [box.element for _, box in _blocks(document)]
    ids = [element.get("id") for element in blocks]
    start, basis = ids.index("signatures"), ids.index("legal-basis")
    on = set().union(*(pages[element] for element in blocks[start:basis]))
    assert len(on) == 1, f"the signatures are on pages {sorted(on)}"
    (page,) = on
    assert max(pages[blocks[start - 1]]) == page - 1  # the text the client reads, then this page
    assert min(pages[blocks[basis]]) == page + 1  # the legal basis after it, from the next page
    # As printed: the page starts with its heading and says where it is in the document.
    text = document.pdf.pages[page - 1].extract_text().strip()
    total = len(document.pdf.pages)
    assert text.startswith("Signatures") and text.endswith(f"Page {page} of {total}")
    assert page < total


@pytest.mark.slow  # lays out PDFs with WeasyPrint, seconds: run in CI (pytest -m slow)
def test_a_name_is_never_parted_from_its_signature_line():
    """A family of twelve: the signatures take two pages, and break between two of them."""
    clients = tuple(f"Client Number{i} Doe" for i in range(1, 13))
    request = Request(state="CA", setting="family", clients=clients,
                      as_of=dt.date.fromisoformat(AS_OF))  # fmt: skip
    html = render(build_document(request, practice=PROFILE), "html")
    layout = Printed(html, None, weasyprint.HTML(string=html).render())
    pages = _pages_of(layout)
    blocks = [box.element for _, box in _blocks(layout)]
    ids = [element.get("id") for element in blocks]
    signatures = blocks[ids.index("signatures") : ids.index("legal-basis")]
    pairs = [
        (name, line)
        for name, line in itertools.pairwise(signatures)
        if "".join(line.itertext()).startswith("Signature:")
    ]
    assert len(pairs) == len(clients) + 1  # and the therapist
    assert len(set().union(*(pages[e] for e in signatures))) == 2
    for name, line in pairs:
        assert pages[name] == pages[line], "".join(name.itertext())


@pytest.mark.parametrize(
    "user_css",
    [
        "p { color: #111; }\n</style><script>alert(1)</script>\n",
        'p::after { content: "</style><script>alert(1)</script>"; }\n',
        "/* </STYLE ><script>alert(1)</script> */ p > a { color: #111; }\n",
    ],
)
def test_a_data_dir_stylesheet_cannot_end_the_style_element(tmp_path, user_css):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "print.css").write_text(user_css)
    doc = build_document(Request(state="CA", as_of=dt.date.fromisoformat(AS_OF)),
                         practice=PROFILE, data_dirs=[tmp_path])  # fmt: skip
    html = render(doc, "html", data_dirs=[tmp_path])
    tags, (style,) = _elements(html)
    assert "script" not in tags and tags.count("style") == 1 and "main" in tags
    assert "alert(1)" not in html.split("</style>", 1)[1]
    # What CSS reads is the user's stylesheet: in a CSS string, `<\/` is `</`.
    assert "</" not in style
    assert style.replace("<\\/", "</").strip() == user_css.strip()
    strings = [
        token.value
        for rule in tinycss2.parse_stylesheet(style)
        if rule.type == "qualified-rule"
        for token in rule.content
        if token.type == "string"
    ]
    if "content:" in user_css:
        assert strings == ["</style><script>alert(1)</script>"]


def test_print_type_is_at_least_every_notices_minimum():
    """A notice the law wants in a type size (California's: 12 point) is printed at least that
    large: the page's base size is the smallest text a notice is set in."""
    import re

    css = (ROOT / "templates" / "print.css").read_text(encoding="utf-8")
    base = re.search(r"^html\s*\{[^}]*font-size:\s*([\d.]+)pt", css, re.MULTILINE)
    assert base, "print.css sets the html font-size in points"
    wanted = [
        d["type_points"]
        for path in (ROOT / "jurisdictions").glob("*.yaml")
        for d in (yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)["rules"]
                  .get("required_disclosures") or [])
        if d.get("type_points")
    ]  # fmt: skip
    assert wanted, "some state sets a type size (California)"
    assert float(base.group(1)) >= max(wanted)
