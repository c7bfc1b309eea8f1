"""A Kubernetes pod's container run as its shell would run it, here: every program the command calls (vllm, ray,
glmlab, hf) is replaced by one that records its argv and environment, so a test reads the command line after the
shell expanded the variables (LWS's, the Job's index, $TMPDIR), and the files the script itself writes."""
import json, stat, subprocess, sys
from pathlib import Path

PROGRAMS = ('vllm', 'ray', 'glmlab', 'hf')

def pod_env(pod:dict) -> dict:
    "The container's environment: plain values, and `<secret NAME/KEY>` where a Secret would supply one."
    c = pod['containers'][0]
    ref = lambda e: e['valueFrom']['secretKeyRef']
    return {e['name']: e['value'] if 'value' in e else f"<secret {ref(e)['name']}/{ref(e)['key']}>" for e in c.get('env', [])}

def run_pod(pod:dict, tmp:Path, **variables) -> list[dict]:
    "Run `pod`'s container command with `variables` (e.g. LWS_WORKER_INDEX='1') set; the calls it made, in order."
    c = pod['containers'][0]
    assert c['command'] == ['/bin/sh', '-c'] and len(c['args']) == 1, (c['command'], c['args'])
    tmp.mkdir(parents=True, exist_ok=True)
    bin_, log = tmp / 'bin', tmp / 'calls.jsonl'
    bin_.mkdir(exist_ok=True); log.write_text('')
    for prog in PROGRAMS:
        f = bin_ / prog
        f.write_text(f"#!/bin/sh\nexec {sys.executable} -c 'import json, os, sys; open(sys.argv[1], \"a\").write(json.dumps(dict("
                     f"argv=sys.argv[2:], env=dict(os.environ))) + chr(10))' {log} {prog} \"$@\"\n")
        f.chmod(f.stat().st_mode | stat.S_IXUSR)
    env = {**pod_env(pod), 'PATH': f"{bin_}:/usr/bin:/bin", 'TMPDIR': str(tmp), **variables}
    r = subprocess.run(['/bin/sh', '-c', c['args'][0]], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:], c['args'][0])
    return [json.loads(l) for l in log.read_text().splitlines()]

def mounts_ok(pod:dict) -> list[str]:
    "What is wrong with the pod's volumes: a mount of no volume, a cache variable outside every mount, no /dev/shm."
    c, names = pod['containers'][0], {v['name'] for v in pod.get('volumes', [])}
    mounts = [m['mountPath'] for m in c.get('volumeMounts', [])]
    bad = [f"mount {m['name']}: no such volume" for m in c.get('volumeMounts', []) if m['name'] not in names]
    env = pod_env(pod)
    bad += [f"{k}={env[k]} is on no volume" for k in ('HF_HOME', 'VLLM_CACHE_ROOT') if not any(env.get(k, '').startswith(m + '/') for m in mounts)]
    if '/dev/shm' not in mounts: bad.append('no /dev/shm')
    return bad
