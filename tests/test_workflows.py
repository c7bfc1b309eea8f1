"""The CI workflows (.github/workflows) cannot run here: they parse, keep GitHub's shape (Pages deployed by
actions/deploy-pages from the artifact the build uploads), and run exactly the README's two commands and the docs
build whose folder they publish (the build itself runs in tests/test_docs.py)."""
import re
import yaml
from conftest import ROOT

WF = ROOT / '.github' / 'workflows'

def _readme_commands() -> list[str]:
    block = (ROOT / 'README.md').read_text().split('## Two commands', 1)[1].split('```bash', 1)[1].split('```', 1)[0]
    return [l.split('#', 1)[0].strip() for l in block.splitlines() if l.strip()]

def _runs(wf:dict) -> list[str]:
    return [s['run'].strip() for j in wf['jobs'].values() for s in j['steps'] if 'run' in s]

def _uses(wf:dict) -> list[str]:
    return [s['uses'] for j in wf['jobs'].values() for s in j['steps'] if 'uses' in s]

def test_deploy_installs_runs_the_main_job_builds_and_publishes_the_site():
    wf = yaml.safe_load((WF / 'deploy.yaml').read_text())
    install, test = _readme_commands()
    runs = _runs(wf)
    assert install in runs and 'bash scripts/docs.sh' in runs, (install, runs)
    notebooks = '.venv/bin/glmlab run --notebooks'                                  # the docs build's executions (not the main job's)
    assert runs.index(install) < runs.index(notebooks) < runs.index('bash scripts/docs.sh'), runs   # results exist before the pages
    assert {'actions/upload-pages-artifact@v3', 'actions/deploy-pages@v4'} <= set(_uses(wf)), _uses(wf)
    upload = next(s for j in wf['jobs'].values() for s in j['steps'] if s.get('uses', '').startswith('actions/upload-pages-artifact'))
    site = re.search(r"SITE = ROOT / '(\w+)'", (ROOT / 'scripts/docs.py').read_text())[1]
    assert upload['with']['path'] == site, (upload, site)                              # the folder scripts/docs.py writes
    assert wf['permissions'] == {'contents': 'read', 'pages': 'write', 'id-token': 'write'} and wf['jobs']['deploy']['needs'] == 'build'
    assert 'workflow_dispatch' in wf[True] and wf[True]['push']['branches'] == ['main'], wf[True]   # `on:` reads as True in YAML 1.1

def test_ci_runs_the_readme_test_command():
    wf = yaml.safe_load((WF / 'test.yaml').read_text())
    _, test = _readme_commands()
    assert _runs(wf) == [test], (_runs(wf), test)
    assert test in (ROOT / '.ci/run').read_text()
