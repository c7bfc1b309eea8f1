"""The code reads like the codebases it follows: ruff (configured in pyproject.toml) passes on the notebooks' code and
the library, lines within 120 characters; and every line of the library is within 120 except those nbdev-export
writes itself at its own width (`__all__`, the package docstring's list of modules)."""
import subprocess, sys
from conftest import ROOT, clean_env

def test_ruff_passes():
    r = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--output-format', 'concise', '--no-cache'], cwd=ROOT,
                       capture_output=True, text=True, env=clean_env())
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]

def _generated(lines:list[str]) -> set[int]:
    "Indexes of the lines nbdev-export writes at its own width: the `__all__` list after `# %% auto #0`."
    out, inside = set(), False
    for i, l in enumerate(lines):
        if l.startswith('__all__ = ['): inside = True
        if inside: out.add(i)
        if inside and l.rstrip().endswith(']'): inside = False
    return out

def test_library_lines_within_120():
    long = []
    for f in sorted((ROOT / 'glmlab').rglob('*.py')):
        if f.name in ('_modidx.py', '__init__.py') and f.parent == ROOT / 'glmlab': continue   # nbdev's own files
        lines = f.read_text().splitlines()
        skip = _generated(lines)
        long += [f"{f.relative_to(ROOT)}:{i + 1} ({len(l)})" for i, l in enumerate(lines) if len(l) > 120 and i not in skip]
    assert not long, long
