"""`clipkit report`: the findings across stories, read back from its HTML and its DOCX."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import invoke
from .test_security import clip, transcript_for  # noqa: F401 - the fixture

WORDS = {
    "amira.mp4": [
        "We",
        "needed",
        "somewhere",
        "safe",
        "<b>after</b>",
        "school",
        "and",
        "nobody",
        "listened.",
    ],
    "tom.mp4": ["The", "rent", "went", "up", "twice", "in", "one", "year", "then", "again."],
    "held.mp4": ["Please", "keep", "this", "private", "for", "now", "thank", "you", "all."],
}


@pytest.fixture
def project(tmp_path: Path, clip: Path) -> Path:  # noqa: F811
    root = tmp_path / "project"
    assert invoke("init", str(root)).exit_code == 0
    (root / "clipkit.toml").write_text('[publish]\nplaylist = "Our Voices"\n', encoding="utf-8")
    for name, words in WORDS.items():
        shutil.copy(clip, root / "recordings" / name)
        doc = transcript_for(root / "recordings" / name, words)
        for seg in doc["segments"]:
            for w in seg["words"]:
                w["speaker"] = {"amira.mp4": "Amira", "tom.mp4": "Tom"}.get(name, "Sam")
        (root / "transcripts" / f"{Path(name).stem}.json").write_text(json.dumps(doc), "utf-8")
    (root / "stories.toml").write_text(
        '[story."amira.mp4"]\nconsent = "given"\ntitle = "Somewhere safe"\nthemes = ["youth"]\n'
        '[story."tom.mp4"]\nconsent = "given"\ntitle = "The rent"\nthemes = ["housing"]\n'
        '[story."held.mp4"]\nconsent = "withheld"\ntitle = "Private"\nthemes = ["youth"]\n',
        encoding="utf-8",
    )
    (root / "plan.csv").write_text(
        "source,start,end,title,description,tags\n"
        "recordings/amira.mp4,0.2,1.6,Safe after school,,youth;safety\n"
        "recordings/amira.mp4,1.7,2.9,Nobody listened,,\n"
        "recordings/tom.mp4,0.2,2.9,Twice in one year,,housing;youth\n"
        "recordings/held.mp4,0.2,2.9,Keep it private,,youth\n",
        encoding="utf-8",
    )
    return root


def words_between(name: str, start: float, end: float) -> str:
    """The transcript's words whose middle lies in [start, end) (transcript_for's timing)."""
    words = WORDS[name]
    step = (3000 - 400) // len(words)
    out = [
        w
        for k, w in enumerate(words)
        if start * 1000 <= 200 + k * step + (step - 50) // 2 < end * 1000
    ]
    return " ".join(out)


def test_report_reads_back_from_html_and_docx(project: Path) -> None:
    import docx

    result = invoke("report", str(project))
    assert result.exit_code == 0, result.output
    assert "held.mp4: left out, consent is withheld" in result.stderr
    page = (project / "report" / "index.html").read_text(encoding="utf-8")
    safe = words_between("amira.mp4", 0.2, 1.6)
    assert html_escape(safe) in page and "<b>after</b>" not in page  # escaped, as said
    assert "Private" not in page and "keep this private" not in page.lower()
    assert 'href="../site/stories/amira.html#t=' in page
    # themes by how many stories speak to them: youth (2 stories) before housing and safety
    order = [page.index(f">{t}</h2>") for t in ("youth", "housing", "safety")]
    assert order == sorted(order)
    document = docx.Document(str(project / "report" / "findings.docx"))
    quotes = [p.text for p in document.paragraphs if p.style.name == "Quote"]
    expected = {
        f"“{words_between('amira.mp4', 0.2, 1.6)}”",
        f"“{words_between('amira.mp4', 1.7, 2.9)}”",
        f"“{words_between('tom.mp4', 0.2, 2.9)}”",
    }
    assert set(quotes) == expected
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["youth", "housing", "safety"]
    links = [r.target_ref for r in document.part.rels.values() if r.is_external]
    assert any(link.startswith("../site/stories/tom.html#t=") for link in links)
    assert not any("held" in link for link in links)
    table = document.tables[0]
    counts = {r.cells[0].text: (r.cells[1].text, r.cells[2].text) for r in table.rows[1:]}
    assert counts["youth"] == ("2", "3")  # Amira twice (a tag and her story's theme), Tom once


def test_report_leaves_out_what_the_storyteller_declined(project: Path) -> None:
    with (project / "clipkit.toml").open("a", encoding="utf-8") as fh:
        fh.write("[signoff]\nrequired = true\n")
    assert invoke("--project", str(project), "cut", "-q", "--no-burn").exit_code == 0
    assert invoke("--project", str(project), "signoff", "safe-after-school", "nobody-listened",
                  "--approve", "--by", "Amira").exit_code == 0  # fmt: skip
    assert invoke("--project", str(project), "signoff", "twice-in-one-year", "--decline",
                  "--by", "Tom").exit_code == 0  # fmt: skip
    result = invoke("report", str(project), "--archive-url", "https://example.org/stories")
    assert result.exit_code == 0, result.output
    assert "twice-in-one-year: left out, its storyteller's sign-off is declined" in result.stderr
    page = (project / "report" / "index.html").read_text(encoding="utf-8")
    assert "rent went up" not in page and "housing" not in page
    assert 'href="https://example.org/stories/stories/amira.html#t=' in page


def test_report_needs_a_moment_with_consent(project: Path) -> None:
    (project / "stories.toml").write_text('[story."held.mp4"]\nconsent = "withheld"\n')
    result = invoke("report", str(project))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: nothing to report: no moment of a story with consent given"
    )


def html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)
