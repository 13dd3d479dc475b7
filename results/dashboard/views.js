
(function(){
  const D = window.detcostData; if(!D) return;
  const $ = id => document.getElementById(id);
  const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;',
    '"':'&quot;',"'":'&#39;'})[c]);
  const x = v => v==null ? '' : (v>=10 ? v.toFixed(1) : v.toFixed(2))+'x';
  const pct = r => (r>=0.1 ? (r*100).toFixed(0) : (r*100).toPrecision(2))+'%';
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
    if(noisy && n>1) top += ' <small title="IQR over 10% of the median">'+noisy+
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
      'onclick="document.getElementById(\'f-reset\').click()">reset</button></td></tr>';
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
    rows.slice(0, 40).forEach(([ch,p,c])=>{h+='<tr class="'+ch+'"><td title="'+
      esc(c[1])+'">'+esc(c[1].length>70?c[1].slice(0,67)+'...':c[1])+'</td><td>'+x(p[5])+
      ' <small>'+x(p[6])+'–'+x(p[7])+'</small></td><td>'+x(c[5])+' <small>'+x(c[6])+'–'+
      x(c[7])+'</small></td><td>'+(c[5]/p[5]).toFixed(2)+'</td><td>'+ch+'</td></tr>';});
    h+='</tbody></table>'+(rows.length>40 ? '<p class="note">'+(rows.length-40)+
      ' more rows: narrow them with the search or the filters above.</p>' : '');
    host.innerHTML=h;}
  window.detcostViews=[answer, diff];
})();
