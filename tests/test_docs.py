"""The README links only to files of the clone, and the contract and glossary it names are
in docs/, the same as the spec they copy wherever the spec lies beside the clone (as in CI)."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Beside the clone (CI), or beside the folder of worktrees (a developer's worktree).
SPEC = next((folder / "shared" / "spec" for folder in (ROOT.parent, ROOT.parent.parent)
             if (folder / "shared" / "spec").is_dir()), ROOT.parent / "shared" / "spec")
COPIES = {"sync-contract.md": "sync.md", "glossary.md": "domain.md"}


def test_the_readme_names_no_file_outside_the_clone():
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme and "shared/spec" not in readme
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        assert (ROOT / target).is_file(), target


def test_the_readmes_screenshots_are_kept_in_docs_and_each_is_shown():
    readme = (ROOT / "README.md").read_text()
    shown = re.findall(r'<img src="([^"]+)" alt="[^"]+"', readme)
    assert 2 <= len(shown) <= 3  # issue 12: two or three screenshots, kept in docs/
    for image in shown:
        assert image.startswith("docs/") and (ROOT / image).is_file(), image
    kept = {f"docs/console/{p.name}" for p in (ROOT / "docs" / "console").glob("*.png")}
    assert kept == set(shown), "a screenshot in docs/console/ the README does not show"


@pytest.mark.parametrize(("copy", "spec"), sorted(COPIES.items()))
def test_the_docs_copy_of_the_spec_is_the_spec(copy, spec):
    text = (ROOT / "docs" / copy).read_text()
    assert text.startswith(f"<!-- A copy of the project's spec, shared/spec/{spec},")
    if not (SPEC / spec).exists():
        pytest.skip("the spec is not beside this clone")
    assert text.split("-->\n\n", 1)[1] == (SPEC / spec).read_text()
