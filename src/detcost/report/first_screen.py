"""The index's first screen: the question, the table of named workloads against
environments (each cell: the cost against the budget, what default mode's variance was, the
single knob that costs most), and a side rail (the ops that raise, GPU against GPU, the torch
versions measured, the trust in one line); then a diff of any two environments. The table
and the diff are drawn by the page from data embedded here, so that every control redraws
them without a rebuild."""

from __future__ import annotations

import html
import json

import pandas as pd

from ..analysis.findings import Findings
from ..analysis.stats import NOISE_TARGET, NOISY_IQR, STEADY_TARGET
from ..environment import label_parts
from .text import WORST_STEADY, missing, pct

KNOB_NAMES = {"cublas-workspace": "cuBLAS workspace", "cudnn-deterministic": "cuDNN deterministic"}


def _short_gpu(gpu: str) -> str:
    """'NVIDIA H100 80GB HBM3' -> 'H100'; the CPU stays 'CPU'."""
    words = str(gpu).replace("NVIDIA ", "").split()
    return words[0] if words else str(gpu)


def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 4)


def page_data(f: Findings) -> dict:
    """What the drawn views need, compact: environments, answer cells, and each measured
    case's slowdown with its interval (for the diff)."""
    envs = f.environments
    env_list = [{"env": e, "gpu": str(g), "short": _short_gpu(g), "torch": str(t)}
                for e, g, t in zip(envs["env"], envs["gpu"], envs["torch"], strict=True)]
    index = {e["env"]: i for i, e in enumerate(env_list)}
    answer = [[r.order, r.label, r.kind, r.keyword, index.get(r.env, -1), r.dtype, r.cases,
               _num(r.slowdown), _num(r.low), _num(r.high), _num(r.worst), r.unstable,
               r.varied, _num(r.max_rel_diff), KNOB_NAMES.get(r.knob, r.knob),
               _num(r.knob_slowdown), r.raised, r.runs, r.steady, r.noisy]
              for r in f.answer.itertuples()] if len(f.answer) else []
    c = f.comparison
    ok = c[(c["status"] == "ok") & c["slowdown"].notna()] if len(c) else []
    cases = [[index.get(r.env, -1), r.case_id, r.family, r.dtype, r.precision,
              _num(r.slowdown), _num(r.slowdown_low), _num(r.slowdown_high), r.run_id]
             for r in (ok.itertuples() if len(ok) else [])]
    return {"envs": env_list, "answer": answer, "cases": cases,
            "dtypes": sorted(set(f.answer["dtype"]) - {"all"}) if len(f.answer) else []}


def data_script(f: Findings) -> str:
    payload = (json.dumps(page_data(f), separators=(",", ":"), allow_nan=False)
               .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    return f'<script>window.detcostData={payload};</script>'


def _raises(f: Findings) -> str:
    u = f.unsupported
    if not len(u):
        return ('<div class="card"><b>No op raised</b> under deterministic mode in these '
                "runs.</div>")
    ops = ", ".join(html.escape(str(op)[:60]) for op in u.sort_values(
        "cases", ascending=False)["op"].head(6))
    more = f" and {len(u) - 6} more" if len(u) > 6 else ""
    return (f'<div class="card"><b>{int(u["cases"].sum())} cases ({len(u)} ops) raise '
            f"under deterministic mode</b><br>{ops}{more} "
            '<a href="#unsupported">all</a>. Way out: '
            "<code>torch.use_deterministic_algorithms(True, warn_only=True)</code> runs them "
            "as they are, with a warning, or replace the op.</div>")


def _gpu(env: str) -> str:
    parts = label_parts(env)
    return _short_gpu(parts[0] if parts else env)


def _gpu_line(f: Findings) -> str:
    diffs = [d for d in f.environment_diffs if d.what == "gpu"]
    if not diffs:
        return ('<div class="card"><b>GPU against GPU</b><br>One GPU measured: measure '
                "another with <code>nox -s bench</code> and add its results.</div>")
    lines = []
    for d in diffs:
        c = d.counts
        lines.append(f"{html.escape(_gpu(d.env_b))} against {html.escape(_gpu(d.env_a))}: "
                     f"{c['costlier']} costlier, {c['cheaper']} cheaper, {c['same']} the same "
                     "within their intervals")
    return ('<div class="card"><b>GPU against GPU</b><br>' + "<br>".join(lines)
            + ' <a href="#diff">compare any two</a></div>')


def _torch_line(f: Findings) -> str:
    envs = f.environments
    parts = []
    for gpu, g in envs.groupby("gpu", sort=True):
        versions = ", ".join(sorted(map(str, g["torch"])))
        parts.append(f"{html.escape(_short_gpu(gpu))}: {html.escape(versions)}")
    single = any(n == 1 for n in envs.groupby("gpu")["torch"].nunique())
    how = (" A GPU with one version: add another with "
           "<code>nox -s matrix -- 2.11.0 2.14.1</code>." if single else "")
    changed = []
    for d in (d for d in f.environment_diffs if d.what == "torch"):
        c = d.counts
        changed.append(f"{html.escape(_gpu(d.env_b))} {html.escape(label_parts(d.env_b)[1])} "
                       f"against {html.escape(label_parts(d.env_a)[1])}: {c['costlier']} "
                       f"costlier, {c['cheaper']} cheaper, {c['same']} the same")
    return (f'<div class="card"><b>torch versions</b><br>{"; ".join(parts)}.{how} '
            + ("<br>" + "<br>".join(changed) if changed else "")
            + ' <a href="#diff">compare two</a></div>')


def _trust_line(f: Findings) -> str:
    across = [c for c in f.coverage if c.pair.same_start is False]
    held = (f"a rerun on another machine start landed inside its interval for "
            f"{min(c.inside for c in across):.0%}–{max(c.inside for c in across):.0%} of "
            f"steady cases ({len(across)} held-out pairs)" if across
            else "no pair of runs on two machine starts yet")
    noise = ", ".join(f"{html.escape(_gpu(env))} {s.share:.0%}"
                      + (f" (GPU-bound {pct(s.gpu_bound)})" if s.split else "")
                      for env, s in sorted(f.steady_by_env.items())
                      if not missing(s.share) and _gpu(env) != "CPU")
    p = f.promise
    promise = (f"deterministic mode gave one output per case in all {len(p.measured)} "
               "measurements" if len(p.measured) and not len(p.varied)
               and not len(p.differed) else "deterministic mode broke its promise: see below")
    return (f'<div class="card"><b>Trust</b><br>{promise}; {held}; default-mode cases with '
            f'IQR under {NOISE_TARGET:.0%}: {noise or "none measured"} '
            f'(target {STEADY_TARGET:.0%} of the GPU-bound). '
            '<a href="#trust">details</a></div>')


def first_screen_html(f: Findings) -> str:
    """The table of named workloads (drawn by VIEWS_JS) beside the side rail."""
    return ('<div class="first"><div class="answer"><div id="answer"></div>'
            '<p class="note legend"><span class="sw green"></span>within budget '
            '<span class="sw amber"></span>up to twice the budget '
            '<span class="sw red"></span>beyond <span class="sw grey"></span>not measured '
            "(the command that measures it). A cell: deterministic / default time, its 95% "
            "rerun interval (one case) or the geometric mean and the worst of several "
            f"({WORST_STEADY}); what default mode's variance was; the single knob that costs "
            "most.</p></div>"
            f'<div class="rail">{_raises(f)}{_gpu_line(f)}{_torch_line(f)}'
            f"{_trust_line(f)}</div></div>")


def diff_html() -> str:
    return ('<h2 id="diff">Compare two environments</h2><p class="note">As <code>asv '
            "compare</code> does: per case measured in both, B is costlier or cheaper where "
            "its 95% interval lies wholly above or below A's, else the same within them. "
            'Two GPUs, or two torch versions of one GPU.</p><div class="diffpick">'
            '<label>A <select id="d-a"></select></label> <label>B <select id="d-b">'
            '</select></label></div><div id="diffview"></div>')


SHOWN_DIFF_ROWS = 40
VIEWS_JS = """
(function(){
  const D = window.detcostData; if(!D) return;
  const $ = id => document.getElementById(id);
  const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;',
    '"':'&quot;',"'":'&#39;'})[c]);
  const x = v => v==null ? '' : (v>=10 ? v.toFixed(1) : v.toFixed(2))+'x';
  const pct = r => (r>=0.1 ? (r*100).toFixed(0) : (r*100).toPrecision(2))+'%%';
  function envOk(e, match, w){return match({gpu:e.gpu, torch:e.torch}, w);}
  function colour(v, b){if(v==null)return 'grey'; const r=1+b/100;
    return v<=r ? 'green' : (v<=1+2*b/100 ? 'amber' : 'red');}
  function cell(r, b){
    if(!r || !r[6]){const raised = r && r[16];
      return '<td class="grey">'+(raised ? '<span class="bad">raises: '+esc(raised)+'</span>'
        : 'not measured')+'<br><small><code>nox -s bench -- -k "'+esc(r?r[3]:'')+
        '"</code></small></td>';}
    const [,, , , , , n, s, lo, hi, worst, unstable, varied, rel, knob, ks, raised,, steady,
           noisy] = r;
    // the worst is taken over the steady cases: say so when some were left out
    const wlabel = steady < n ? ', worst steady ' : ', worst ';
    let top = '<b>'+x(s)+'</b> ';
    top += n===1 ? '<small>'+x(lo).replace('x','')+'–'+x(hi)+'</small>'
                 : '<small>geomean of '+n+(worst!=null?wlabel+x(worst):'')+'</small>';
    if(unstable) top += ' <small class="bad" title="moved between machine starts">'+
      unstable+' unstable</small>';
    if(noisy && n>1) top += ' <small title="IQR over %(noisy)s of the median">'+noisy+
      ' noisy</small>';
    const buys = varied ? 'buys: default varied in '+varied+' of '+n+
      (rel ? ' (up to '+pct(rel)+')' : '') : 'default already repeatable';
    const k = knob ? ' · '+esc(knob)+' '+x(ks) : '';
    const extra = raised ? ' · <span class="bad">raises: '+esc(raised.split(',')[0])+'</span>'
      : '';
    return '<td class="'+colour(s,b)+'" title="runs: '+esc(r[17])+'">'+top+
      '<br><small>'+buys+k+extra+'</small></td>';}
  function answer(s, match){
    const host=$('answer'); if(!host) return;
    const envs = D.envs.map((e,i)=>[e,i]).filter(([e])=>envOk(e,match,s.w));
    const dtype = s.w.dtype || 'all';
    const byLabel = new Map();
    D.answer.forEach(r=>{if(r[5]!==dtype)return; if(!byLabel.has(r[1]))byLabel.set(r[1],
      {order:r[0], kind:r[2], keyword:r[3], cells:{}}); byLabel.get(r[1]).cells[r[4]]=r;});
    D.answer.forEach(r=>{if(!byLabel.has(r[1])&&r[2]==='model')byLabel.set(r[1],
      {order:r[0], kind:r[2], keyword:r[3], cells:{}});});
    let rows=[...byLabel.entries()].sort((a,b)=>a[1].order-b[1].order);
    rows = rows.filter(([label,v])=>(!s.q || (label+' '+v.keyword).toLowerCase().includes(s.q))
      && (!s.w.family || (v.kind==='model' ? s.w.family==='model' : v.keyword===s.w.family))
      && (v.kind==='model' || envs.some(([,i])=>v.cells[i])));
    let h='<table class="answer-table"><thead><tr><th>workload'+(dtype!=='all'?' ('+esc(dtype)+
      ')':'')+'</th>'+envs.map(([e])=>'<th title="'+esc(e.env)+'">'+esc(e.short)+
      ' <small>torch '+esc(e.torch)+'</small></th>').join('')+'</tr></thead><tbody>';
    rows.forEach(([label,v])=>{h+='<tr><th class="label">'+esc(label)+'</th>'+envs.map(
      ([,i])=>cell(v.cells[i] || [0,label,v.kind,v.keyword,i,dtype,0], s.budget)).join('')+
      '</tr>';});
    if(!rows.length) h+='<tr><td>No workload matches: <button type="button" '+
      'onclick="document.getElementById(\\'f-reset\\').click()">reset</button></td></tr>';
    host.innerHTML=h+'</tbody></table>';}
  function diff(s, match){
    const a=$('d-a'), b=$('d-b'), host=$('diffview'); if(!a||!host) return;
    if(!a.options.length){D.envs.forEach((e,i)=>{[a,b].forEach(sel=>sel.add(new Option(
      e.env, i)));}); const gpus=D.envs.map((e,i)=>[e,i]).filter(([e])=>e.gpu!=='CPU');
      const pick=gpus.length>1?gpus:D.envs.map((e,i)=>[e,i]);
      if(pick.length>1){a.value=pick[0][1]; b.value=pick[1][1];}
      [a,b].forEach(sel=>sel.addEventListener('change',()=>window.detcostApply()));}
    const ia=+a.value, ib=+b.value, byCase=new Map();
    D.cases.forEach(c=>{if(c[0]!==ia)return; if(!match({family:c[2],dtype:c[3],
      precision:c[4]}, s.w) || (s.q && !c[1].toLowerCase().includes(s.q))) return;
      byCase.set(c[1], c);});
    const rows=[]; D.cases.forEach(c=>{if(c[0]!==ib||!byCase.has(c[1]))return;
      const p=byCase.get(c[1]); const change = c[6]>p[7] ? 'costlier' :
      (c[7]<p[6] ? 'cheaper' : 'same'); rows.push([change, p, c]);});
    const n=k=>rows.filter(r=>r[0]===k).length;
    const order={costlier:0, cheaper:1, same:2};
    rows.sort((u,v)=>order[u[0]]-order[v[0]] || (v[2][5]/v[1][5])-(u[2][5]/u[1][5]));
    let h='<p><b>'+rows.length+' cases</b> in both: <b>'+n('costlier')+' costlier</b>, <b>'+
      n('cheaper')+' cheaper</b>, '+n('same')+' the same within their intervals (B against A).'+
      '</p><table><thead><tr><th>case</th><th>A</th><th>B</th><th>B / A</th><th>change</th>'+
      '</tr></thead><tbody>';
    rows.slice(0, %(shown)d).forEach(([ch,p,c])=>{h+='<tr class="'+ch+'"><td title="'+
      esc(c[1])+'">'+esc(c[1].length>70?c[1].slice(0,67)+'...':c[1])+'</td><td>'+x(p[5])+
      ' <small>'+x(p[6])+'–'+x(p[7])+'</small></td><td>'+x(c[5])+' <small>'+x(c[6])+'–'+
      x(c[7])+'</small></td><td>'+(c[5]/p[5]).toFixed(2)+'</td><td>'+ch+'</td></tr>';});
    h+='</tbody></table>'+(rows.length>%(shown)d ? '<p class="note">'+(rows.length-%(shown)d)+
      ' more rows: narrow them with the search or the filters above.</p>' : '');
    host.innerHTML=h;}
  window.detcostViews=[answer, diff];
})();
"""


def views_script() -> str:
    return VIEWS_JS % {"shown": SHOWN_DIFF_ROWS, "noisy": f"{NOISY_IQR:.0%}"}

