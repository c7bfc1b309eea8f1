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

PARTS = ('core', 'footprint', 'quant', 'serving', 'lab', 'cli')   # the README's table, in order: each imports only those before it

def _glmlab_imports():
    "(module file, the glmlab part of the module it imports, the names it imports) for every import in the package."
    import ast
    for p in sorted((ROOT / 'glmlab').rglob('*.py')):
        if p.name == '_modidx.py': continue
        here = p.relative_to(ROOT / 'glmlab').with_suffix('').parts
        for node in ast.walk(ast.parse(p.read_text())):
            if not isinstance(node, ast.ImportFrom): continue
            if node.level:   # relative: resolve against the importing module's package
                target = here[:len(here) - node.level] + tuple((node.module or '').split('.'))
            elif (node.module or '').startswith('glmlab.'): target = tuple(node.module.split('.')[1:])
            else: continue
            yield p.relative_to(ROOT), target, [a.name for a in node.names]

def _part(module:tuple) -> str|None: return module[0] if module and module[0] in PARTS else None

def test_each_part_imports_only_the_parts_before_it():
    edges = {(_part(f.relative_to('glmlab').with_suffix('').parts), _part(t), f'{f} -> glmlab.{".".join(t)}') for f, t, _ in _glmlab_imports()}
    assert {src for src, _, _ in edges} >= set(PARTS), edges   # every part was seen importing something
    up = sorted(how for src, dst, how in edges if src and dst and PARTS.index(dst) > PARTS.index(src))
    assert not up, up

def test_no_module_imports_a_private_name_of_another():
    private = [(str(f), '.'.join(t), n) for f, t, names in _glmlab_imports() for n in names if n.startswith('_')]
    assert not private, private
