"""Refresh the outputs committed in nbs/: run every notebook that papermill does not own with nbdev's runner (its
`#| slow` cells left out, so only quick, deterministic cells get outputs), keep what each cell showed, drop what the
environment printed to stderr (import-time warnings naming this machine's paths) and whatever `#| hide` cells showed
(no page shows them), then `nbdev-clean`.
Usage: .venv/bin/python scripts/outputs.py [NOTEBOOK ...]   (default: all of them); commit the result."""
import json, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from docs import is_papermill_template

ROOT, BIN = Path(__file__).resolve().parents[1], Path(sys.executable).parent

def refresh(nb:Path) -> str:
    r = subprocess.run([BIN / 'nbdev-test', str(nb.relative_to(ROOT)), '--save'], cwd=ROOT, capture_output=True, text=True)
    if r.returncode: return f'{nb.name}: FAILED, left as it was\n{r.stderr[-2000:]}'
    d = json.loads(nb.read_text())
    for c in d['cells']:
        if c['cell_type'] != 'code': continue
        hidden = ''.join(c['source']).startswith('#| hide')   # a test no page shows: what it drew or printed is not kept
        c['outputs'] = [] if hidden else [o for o in c['outputs'] if not (o['output_type'] == 'stream' and o['name'] == 'stderr')]
    nb.write_text(json.dumps(d, indent=1, ensure_ascii=False) + '\n')
    return f'{nb.name}: outputs saved'

if __name__ == '__main__':
    nbs = [ROOT / 'nbs' / n for n in sys.argv[1:]] or sorted(p for p in (ROOT / 'nbs').glob('*.ipynb')
                                                         if not p.name.startswith('_') and not is_papermill_template(p))
    with ThreadPoolExecutor(2) as ex:
        for line in ex.map(refresh, nbs): print(line, flush=True)
    subprocess.run([BIN / 'nbdev-clean'], cwd=ROOT, check=True)
