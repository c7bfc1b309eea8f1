"""Notebooks are the source: nbdev-export and nbdev-clean must not change any file git tracks. They run on a copy of
the checkout (its files as they are now), so the working tree is never rewritten while other tests import it."""
import shutil, subprocess
import pytest
from conftest import ROOT, exe, clean_env

def _files(root):
    "Files of the checkout at `root` that git tracks or would (not ignored), with their contents now."
    names = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', 'glmlab', 'nbs', 'pyproject.toml', 'settings.ini'], cwd=root,
                           capture_output=True, text=True, check=True).stdout.split('\0')
    return {n: (root / n).read_bytes() for n in names if n and (root / n).is_file()}

@pytest.mark.skipif(not (ROOT / '.git').exists(), reason='needs a git checkout')
def test_export_and_clean_change_nothing(tmp_path):
    before = _files(ROOT)
    for name, data in before.items(): (tmp_path / name).parent.mkdir(parents=True, exist_ok=True); (tmp_path / name).write_bytes(data)
    shutil.copytree(ROOT / 'data', tmp_path / 'data')   # settings.ini and data/ make it a glmlab project for the notebooks' imports
    for cmd in ('nbdev-export', 'nbdev-clean'):
        r = subprocess.run([exe(cmd)], cwd=tmp_path, capture_output=True, text=True, env=clean_env())
        assert r.returncode == 0, r.stderr
    after = {n: (tmp_path / n).read_bytes() for n in before if (tmp_path / n).is_file()}
    changed = sorted(n for n in before if after.get(n) != before[n])
    new = sorted(str(p.relative_to(tmp_path)) for d in ('glmlab', 'nbs') for p in (tmp_path / d).rglob('*')
                 if p.is_file() and str(p.relative_to(tmp_path)) not in before and '__pycache__' not in p.parts)
    assert not changed and not new, f"nbdev-export / nbdev-clean would change {changed} and add {new}; run them and commit what they produce"
