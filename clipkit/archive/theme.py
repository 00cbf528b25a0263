"""The archive's look: Jinja2 templates and clipkit.toml's [archive] settings, and the escaping
every text gets where it lands."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil import atomic_write_text
from ..project import Project
from .files import SiteResult, copy_atomic
from .sources import project_file

ACCENT = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|hsl)a?\([0-9.,%\s]+\))$")


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def script_json(data: Any) -> str:
    """JSON safe inside <script>: no `</script>` or `<!--` can end or confuse the element."""
    return (
        json.dumps(data, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


@dataclass(frozen=True)
class Theme:
    """The archive's look: Jinja2 templates (configs/archive/, overridden by the project's
    archive/ folder) and clipkit.toml's [archive] settings (organisation, logo, accent colour,
    footer, about page)."""

    env: Any
    site: dict[str, str]

    @classmethod
    def load(cls, project: Project) -> Theme:
        import jinja2

        from ..resources import configs_dir

        loader = jinja2.ChoiceLoader([
            jinja2.FileSystemLoader(str(project.root / "archive")),
            jinja2.FileSystemLoader(str(configs_dir() / "archive")),
        ])  # fmt: skip
        env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html"]))
        settings = project.settings.get("archive", {})
        site = {k: str(settings.get(k, "")) for k in ("organisation", "footer", "about")}
        accent = str(settings.get("accent") or "#0b57d0").strip()
        if not ACCENT.match(accent):  # it lands in the stylesheet: a colour, nothing else
            raise InputError(f"[archive] accent = {accent!r} is not a CSS colour (e.g. #0b57d0)")
        site["accent"] = accent
        site["logo"] = Path(str(settings["logo"])).name if settings.get("logo") else ""
        return cls(env, site)

    def _render(self, name: str, **values: Any) -> str:
        import jinja2

        try:
            return str(self.env.get_template(name).render(**values))
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or name
            raise InputError(f"{where}:{exc.lineno}: template error: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise InputError(f"archive template {name}: {exc}") from exc

    def page(self, title: str, body: str, depth: int, lang: str = "en") -> str:
        from markupsafe import Markup

        return self._render(
            "base.html",
            title=title, body=Markup(body), up="../" * depth, lang=lang or "en", site=self.site,
        )  # fmt: skip

    def stylesheet(self) -> str:
        return self._render("style.css", site=self.site)

    def extras(self, project: Project, out: Path, result: SiteResult) -> None:
        """The logo into assets/, and the about page from its text (paragraphs); both files
        must lie inside the project."""
        settings = project.settings.get("archive", {})
        if settings.get("logo"):
            logo = project_file(project, str(settings["logo"]), "[archive] logo")
            if not logo.is_file():
                raise InputError(f"[archive] logo {logo} not found")
            target = out / "assets" / logo.name
            copy_atomic(logo, target)
            result.written.add(target)
        if settings.get("about"):
            about = project_file(project, str(settings["about"]), "[archive] about")
            if not about.is_file():
                raise InputError(f"[archive] about {about} not found")
            from ..fsutil import read_user_text

            paragraphs = [p.strip() for p in read_user_text(about).split("\n\n")]
            body = (
                '<main id="main"><h1>About this archive</h1>'
                + "".join(f"<p>{esc(p)}</p>" for p in paragraphs if p)
                + "</main>"
            )
            atomic_write_text(out / "about.html", self.page("About this archive", body, 0))
            result.written.add(out / "about.html")
