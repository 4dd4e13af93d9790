"""The client's copy holds nothing for the clinician; the review sheet holds it all (issue 12)."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse

import pytest

from conftest import AS_OF, PROFILE, ROOT, state_cases
from consentgen import Request, build_document, render

SETTINGS = ("individual", "couples", "family", "group", "minor")
STATES = sorted(p.stem for p in (ROOT / "jurisdictions").glob("*.yaml") if p.stem != "US")
DATE = dt.date.fromisoformat(AS_OF)
# A floor, not the whole test: compose.py gives the client's copy no field to hold such text.
FORBIDDEN = (
    "For the therapist",
    "your therapist",
    "Your therapist",  # the heading is "Who I am"
    "the therapist",
    "The therapist",
    "herapists must",
    "the clinician",
    "ask your",
    "Ask your",
    "not confirmed",
    "was found",
    "we found",
    "check before use",
    "unverified",
    "Unverified",
    "your therapist should confirm",
    "not in consentgen's data",
    "add it before use",
)
RESEARCH_HOSTS = ("docslib.org", "jurris.com", "casetext.com", "justia.com", "findlaw.com",
                  "impactattorneys.com", "hipaatemplates.com", "lawserver.com", "elaws.us",
                  "midpage.ai", "childwelfare.gov", "health.wyo.gov")  # fmt: skip
_LINK = re.compile(r"\]\((https?://[^)\s]+)\)|<(https?://[^>\s]+)>")


def _official_host(host: str) -> bool:
    """Independent of compose.py's rule, and looser: a government or known official host."""
    return (host.endswith(".gov") or re.search(r"\.state\.[a-z]{2}\.us$", host) is not None
            or host.endswith(("dccouncil.us", "azbbhe.us", "mainelegislature.org",
                              "ksrevisor.org", "ksbsrb.org", "oscn.net", "ncbmft.org",
                              "ncpsychologyboard.org", "ncblcmhc.org", "wvbec.org")))  # fmt: skip


@pytest.mark.parametrize("state", state_cases(STATES))
def test_no_clinician_text_and_only_official_links_in_any_client_copy(state):
    for setting in SETTINGS:
        doc = build_document(Request(state=state, setting=setting, as_of=DATE), practice=PROFILE)
        md = render(doc, "md")
        for phrase in FORBIDDEN:
            assert phrase not in md, (state, setting, phrase)
        basis = md[md.index("## Legal basis") :]
        for match in _LINK.finditer(basis):
            url = match.group(1) or match.group(2)
            host = urllib.parse.urlsplit(url).hostname or ""
            assert _official_host(host), (state, setting, url)
            assert not any(host == h or host.endswith("." + h) for h in RESEARCH_HOSTS), url
        # The legal basis comes after the signatures, one entry per rule.
        assert md.index("## Signatures") < md.index("## Legal basis")
        entries = [line for line in basis.splitlines() if line.startswith("- **")]
        labels = [line.split(":**")[0] for line in entries]
        assert len(labels) == len(set(labels)), (state, setting)


def test_official_source_rule():
    from consentgen.compose import is_official_source as ok

    assert ok("https://leginfo.legislature.ca.gov/faces/codes.xhtml?x=1", "CA")
    assert ok("https://www.ecfr.gov/current/title-45/section-164.520", "US")
    assert ok("https://texreg.sos.state.tx.us/public/readtac", "TX")
    assert ok("https://www.ilga.gov/legislation/ilcs/ilcs.asp", "IL")
    assert ok("https://www.oregon.gov/oblpct/pages/index.aspx", "OR")
    assert not ok("https://docslib.org/doc/13897650/penal-code-11166", "CA")
    assert not ok("http://jurris.com/california/penal-code/11164-11174.3/", "CA")
    assert not ok("https://health.wyo.gov/publichealth/988-suicide-crisis-lifeline", "US")
    assert not ok("https://www.childwelfare.gov/resources/state-statutes", "CA")
    assert not ok("https://www.oregon.gov/oblpct/pages/index.aspx", "CA")  # another state's
    assert not ok("https://www.monroecounty.gov/x", "NY")  # a county's
    assert not ok("http://www.leginfo.ca.gov/pub/11-12/bill/sen/sb_1134_cfa_2012_sen_comm.html",
                  "CA")  # a committee analysis  # fmt: skip


def _sheet_json(cli, *extra):
    result = cli("review", "--state", "CA", "--setting", "couples", "--practice", PROFILE,
                 "--as-of", AS_OF, "--format", "json", *extra)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_review_sheet_json_for_ca_couples(cli):
    data = _sheet_json(cli)
    items = data["items"]
    assert items
    keys = {"rule", "section", "statement", "citations", "verified", "reviewed", "check"}
    assert all(set(item) == keys for item in items)
    citations = [c for item in items for c in item["citations"]]
    assert all(set(c) == {"cite", "source_url", "read"} for c in citations)
    assert all(isinstance(item["verified"], bool) and item["reviewed"] is False for item in items)
    by_rule = {item["rule"]: item for item in items}
    child = by_rule["CA.child_abuse_reporting"]
    assert child["section"] == "child_abuse_reporting"
    assert "36 hours" in child["check"] and "child welfare" in child["check"]
    assert any("docslib.org" in c["source_url"] for c in child["citations"])  # research: here only
    assert by_rule["US.crisis_line"]["section"] == "emergencies"
    assert any(not item["verified"] for item in items)
    assert "CA.required_disclosures.bbs_notice" in by_rule or any(
        r.startswith("CA.required_disclosures.") for r in by_rule
    )
    sections = {item["section"] for item in items}
    assert {"legal_proceedings", "records", "state_notices"} <= sections
    md = cli("review", "--state", "CA", "--setting", "couples", "--as-of", AS_OF)
    assert md.exit_code == 0 and "# Review sheet: California, couples therapy" in md.stdout
    html = cli("review", "--state", "CA", "--setting", "couples", "--as-of", AS_OF, "-f", "html")
    assert html.exit_code == 0 and "<h1" in html.stdout and "docslib.org" in html.stdout


ZZ = """\
code: ZZ
name: Zedland
last_reviewed: 2026-01-01
rules:
  privilege:
    summary: What you tell me is privileged.
    citations: [{{cite: "Zed. Evid. Code § 1", source_url: "https://example.org/privilege",
                  read: primary}}]
    verified: false
{revised}"""


def _zedland(tmp_path, revised: str | None):
    folder = tmp_path / "data" / "jurisdictions"
    folder.mkdir(parents=True, exist_ok=True)
    line = f"    revised: {revised}\n" if revised else ""
    (folder / "ZZ.yaml").write_text(ZZ.format(revised=line))
    return tmp_path / "data"


def _profile(tmp_path, reviewed: str) -> str:
    text = PROFILE.read_text(encoding="utf-8").replace("Jordan Lee", "Robin Park")
    text = text.replace('number: "123456"', 'number: "777001"')
    path = tmp_path / "practice.yaml"
    path.write_text(text + reviewed, encoding="utf-8")
    return str(path)


def test_reviewed_marks_an_item_until_the_rule_changes_after_that_day(tmp_path):
    from consentgen import api

    review = "reviewed:\n  - {rule: ZZ.privilege, on: 2026-11-30, by: J. Lee}\n"
    practice = _profile(tmp_path, review)
    request = Request(state="ZZ", as_of=DATE)

    def item(data):
        sheet = api.review_sheet(request, practice=practice, data_dirs=[data])
        return next(i for i in sheet.items if i.rule == "ZZ.privilege")

    before = item(_zedland(tmp_path, "2026-11-01"))
    assert before.reviewed and not before.pending and "J. Lee" in before.check
    after = item(_zedland(tmp_path, "2026-12-01"))  # corrected after the review
    assert not after.reviewed and after.pending
    assert "no longer counts" in after.check and "2026-12-01" in after.check
    unreviewed = api.review_sheet(request, practice=PROFILE, data_dirs=[_zedland(tmp_path, None)])
    assert next(i for i in unreviewed.items if i.rule == "ZZ.privilege").pending


def test_a_reviewed_rule_that_does_not_exist_is_an_error_at_its_line(cli, tmp_path):
    practice = _profile(tmp_path, "reviewed:\n  - {rule: CA.privlege, on: 2026-11-30}\n")
    result = cli("review", "--state", "CA", "--practice", practice)
    assert result.exit_code == 2
    lines = PROFILE.read_text(encoding="utf-8").count("\n") + 2
    assert f"practice.yaml:{lines}:" in result.stderr
    assert "did you mean CA.privilege" in result.stderr
    bad = _profile(tmp_path, "reviewed:\n  - {rule: privilege, on: 2026-11-30}\n")
    assert cli("build", "--state", "CA", "--practice", bad).exit_code == 2


def test_lint_reports_a_review_of_an_unknown_rule_at_its_line(cli, tmp_path):
    practice = _profile(tmp_path, "reviewed:\n  - {rule: CA.privlege, on: 2026-11-30}\n")
    result = cli("lint", practice, "--format", "json")
    assert result.exit_code == 1, result.stdout
    lines = PROFILE.read_text(encoding="utf-8").count("\n") + 2
    found = [p for p in json.loads(result.stdout) if "privlege" in p["message"]]
    assert len(found) == 1 and found[0]["line"] == lines and found[0]["severity"] == "error"
    assert "did you mean CA.privilege" in found[0]["message"]
    good = _profile(tmp_path, "reviewed:\n  - {rule: CA.privilege, on: 2026-11-30}\n")
    assert not [p for p in json.loads(cli("lint", good, "--format", "json").stdout)
                if "reviewed" in p["message"]]  # fmt: skip


def _build(cli, practice, out, *extra):
    return cli("build", "--state", "CA", "--setting", "couples", "--practice", practice,
               "--as-of", AS_OF, "-o", out, *extra)  # fmt: skip


def test_build_warns_in_one_line_and_strict_refuses_unreviewed_statements(cli, tmp_path):
    practice = _profile(tmp_path, "")
    out = tmp_path / "consent.md"
    result = _build(cli, practice, out)
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "neither verified" in line]
    assert len(lines) == 1 and "consentgen review --state CA --setting couples" in lines[0]
    assert "marked for you to check" not in result.stderr
    strict_out = tmp_path / "strict.md"
    result = _build(cli, practice, strict_out, "--strict")
    assert result.exit_code == 1
    assert "neither verified" in result.stderr and not strict_out.exists()


def test_build_strict_passes_when_every_statement_is_reviewed(cli, tmp_path):
    pending = [i["rule"] for i in _sheet_json(cli)["items"] if not i["verified"]]
    assert pending
    reviewed = "reviewed:\n" + "".join(f"  - {{rule: {r}, on: {AS_OF}, by: J. Lee}}\n"
                                       for r in pending)  # fmt: skip
    practice = _profile(tmp_path, reviewed)
    out = tmp_path / "consent.md"
    result = _build(cli, practice, out, "--strict")
    assert result.exit_code == 0, result.stderr
    assert out.exists() and "neither verified" not in result.stderr
    data = json.loads(cli("review", "--state", "CA", "--setting", "couples", "--practice",
                          practice, "--as-of", AS_OF, "-f", "json").stdout)  # fmt: skip
    assert data["pending"] == 0 and all(i["verified"] or i["reviewed"] for i in data["items"])


def test_batch_strict_reports_rows_and_writes_nothing(cli, tmp_path):
    source = tmp_path / "clients.csv"
    source.write_text("id,state,setting,clients\nc1,CA,couples,Alex Doe;Sam Roe\n"
                      "c2,NY,individual,Kim Doe\n")  # fmt: skip
    practice = _profile(tmp_path, "")
    out = tmp_path / "out"
    result = cli("batch", source, "--out-dir", out, "--practice", practice, "--as-of", AS_OF,
                 "--strict")  # fmt: skip
    assert result.exit_code == 1
    assert "id c1" in result.stderr and "id c2" in result.stderr
    assert not out.exists()
    result = cli("batch", source, "--out-dir", out, "--practice", practice, "--as-of", AS_OF)
    assert result.exit_code == 0 and len(list(out.glob("*.md"))) == 2


def test_each_citation_says_whether_it_was_read_in_primary_text(cli):
    items = _sheet_json(cli)["items"]
    reads = {c["read"] for item in items for c in item["citations"]}
    assert reads == {"primary", "secondary"}
    # A verified statement rests on at least one citation read in the law's own text (CG213).
    for item in items:
        if item["verified"] and item["citations"]:
            assert any(c["read"] == "primary" for c in item["citations"]), item["rule"]


def _with_pending_bills() -> list[str]:
    files = {s: ROOT / "jurisdictions" / f"{s}.yaml" for s in STATES}
    return [s for s, path in files.items() if "pending_bills:" in path.read_text()]


@pytest.mark.parametrize("state", _with_pending_bills())
def test_the_review_sheet_names_each_bill_beside_the_rule_it_would_change(cli, state):
    from consentgen import jurisdictions

    bills = jurisdictions.load_file(ROOT / "jurisdictions" / f"{state}.yaml", "built-in")
    bills = bills.jurisdiction.pending_bills
    result = cli("review", "--state", state, "--setting", "minor", "--practice", PROFILE,
                 "--as-of", AS_OF, "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    checks = {item["rule"]: item["check"] for item in json.loads(result.stdout)["items"]}
    for bill in bills:
        for name in bill.rules:
            assert f"A bill would change this: {bill.bill}" in checks[f"{state}.{name}"]
