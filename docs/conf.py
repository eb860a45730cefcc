"""Sphinx configuration for the deskcore documentation (MyST markdown, furo theme).

Built with warnings as errors: ``sphinx-build -W --keep-going -E -b html docs docs/_build/html``
(``make docs``). No extension reaches the network, so the build works offline.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Build against the source tree even when deskcore is not installed (the editable install
# used by `make` points here too).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sphinx.application import Sphinx  # noqa: E402
from sphinx.ext.napoleon import _process_docstring as napoleon_process_docstring  # noqa: E402

import deskcore  # noqa: E402

project = "deskcore"
author = "deskcore maintainers"
copyright = "deskcore maintainers"
release = deskcore.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# -- MyST --------------------------------------------------------------------------------------
myst_heading_anchors = 3
# deflist: the rules page lists each rule as a term and its explanation.
myst_enable_extensions = ["deflist"]

# -- autodoc and napoleon ----------------------------------------------------------------------
# Type hints stay in the signatures, which Sphinx splits one parameter per line when they are
# long (the attrs models have many keyword-only fields). pydantic models show no signature:
# their fields are documented one by one below, with their types (see ``setup``).
autodoc_typehints = "signature"
python_maximum_signature_line_length = 88
autodoc_member_order = "bysource"
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Render "Attributes:" sections as fields, not as ``.. attribute::`` directives: autodoc
# already documents each attrs field, and two descriptions of one name is a warning.
napoleon_use_ivar = True

# -- HTML --------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"deskcore {release}"


# -- napoleon for attributes and properties ----------------------------------------------------
# Napoleon reads the first line of an attribute or property docstring as "type: description",
# so a summary such as "The allowed status changes (L1): ..." would render with the type
# "The allowed status changes (L1)". deskcore's summaries use the colon as prose and the types
# come from the annotations, so those docstrings are parsed like a method's instead.


def _napoleon_without_inline_types(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    lines: list[str],
) -> None:
    kind = "method" if what in {"attribute", "data", "property"} else what
    napoleon_process_docstring(app, kind, name, obj, options, lines)


# pydantic's own members, documented by pydantic, not by deskcore.
_PYDANTIC_MEMBERS = {"model_config", "model_fields", "model_computed_fields"}


def _is_pydantic_model(obj: object) -> bool:
    return isinstance(obj, type) and any(
        base.__module__.startswith("pydantic.") and base.__name__ == "BaseModel"
        for base in obj.__mro__
    )


def _pydantic_signature(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    # pydantic synthesises a signature whose Annotated[...] types print as pages of
    # constraints; the field list below says the same thing readably.
    if what == "class" and _is_pydantic_model(obj):
        return "", None
    return None


def _skip_pydantic_members(
    app: Sphinx, what: str, name: str, obj: object, skip: bool, options: object
) -> bool | None:
    return True if name in _PYDANTIC_MEMBERS else None


def setup(app: Sphinx) -> None:
    for listener in list(app.events.listeners.get("autodoc-process-docstring", [])):
        if listener.handler is napoleon_process_docstring:
            app.disconnect(listener.id)
    app.connect("autodoc-process-docstring", _napoleon_without_inline_types)
    app.connect("autodoc-process-signature", _pydantic_signature)
    app.connect("autodoc-skip-member", _skip_pydantic_members)
