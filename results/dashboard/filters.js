
(function(){
  const keys = ["gpu", "torch", "family", "dtype", "precision"], EVERY_GPU = "GPUs";
  const $ = id => document.getElementById(id);
  function parse(k){const o={};(k||'').split('|').forEach(p=>{const i=p.indexOf('=');
    if(i>0)o[p.slice(0,i)]=p.slice(i+1);});return o;}
  function state(){const w={};keys.forEach(k=>{const s=$('f-'+k);if(s&&s.value)w[k]=s.value;});
    const q=$('f-q'),b=$('f-budget');
    return {w:w,q:q?q.value.trim().toLowerCase():'',budget:b?parseFloat(b.value)||10:10};}
  function matchKey(o,w){return Object.keys(w).every(k=>{if(!(k in o))return true;
    if(k==='gpu'&&w[k]===EVERY_GPU)return o.gpu!=='CPU';return o[k]===w[k];});}
  function match(key,s,text){const o=parse(key);
    return matchKey(o,s.w)&&(!s.q||String(text||key).toLowerCase().includes(s.q));}
  const perPoint=['x','y','ids','text','customdata','z'];
  const isArr=a=>Array.isArray(a)||ArrayBuffer.isView(a);
  function filterTrace(t,s){
    if(t.type==='heatmap'&&t.meta&&t.meta.rowkeys){const keep=t.meta.rowkeys.map(k=>match(k,s));
      return Object.assign({},t,{z:t.z.filter((_,i)=>keep[i]),y:t.y.filter((_,i)=>keep[i]),
        text:t.text?t.text.filter((_,i)=>keep[i]):t.text});}
    if(!t.ids)return t;
    const keep=t.ids.map(k=>match(k,s)),c=Object.assign({},t);
    perPoint.forEach(p=>{if(isArr(t[p])&&t[p].length===keep.length)
      c[p]=t[p].filter((_,i)=>keep[i]);});
    ['error_x','error_y'].forEach(e=>{if(t[e]){c[e]=Object.assign({},t[e]);
      ['array','arrayminus'].forEach(a=>{if(isArr(t[e][a]))
        c[e][a]=t[e][a].filter((_,i)=>keep[i]);});}});
    if(t.marker&&isArr(t.marker.color)){c.marker=Object.assign({},t.marker,
      {color:t.marker.color.filter((_,i)=>keep[i])});}
    return c;}
  function toURL(s){const p=new URLSearchParams();
    keys.forEach(k=>{const el=$('f-'+k);if(el&&el.value!==(el.dataset.default||''))
      p.set(k,el.value);});
    if(s.q)p.set('q',$('f-q').value.trim());
    const b=$('f-budget');if(b&&b.value!==b.dataset.default)p.set('budget',b.value);
    const h=p.toString();
    try{history.replaceState(null,'',h?'#'+h:location.pathname+location.search);}
    catch(e){location.hash=h;}}
  function fromURL(){const p=new URLSearchParams(location.hash.slice(1));
    keys.forEach(k=>{const el=$('f-'+k);if(el&&p.has(k)&&[...el.options].some(
      o=>o.value===p.get(k)))el.value=p.get(k);});
    if(p.has('q')&&$('f-q'))$('f-q').value=p.get('q');
    if(p.has('budget')&&$('f-budget'))$('f-budget').value=p.get('budget');}
  function filterFigure(div,s){
    if(!div._original)div._original=JSON.parse(JSON.stringify(div.data));
    Plotly.react(div,div._original.map(t=>filterTrace(t,s)),div.layout);}
  // figures are drawn when they come near the screen, then filtered as the page is
  const queued=new Map((window.detcostFigures||[]).map(([id,f,c])=>[id,[f,c]]));
  function draw(div){const [f,c]=queued.get(div.id);queued.delete(div.id);
    Plotly.newPlot(div,f.data,f.layout,c).then(()=>filterFigure(div,state()));}
  const near=('IntersectionObserver' in window)?new IntersectionObserver(es=>es.forEach(e=>{
    if(e.isIntersecting&&queued.has(e.target.id)){near.unobserve(e.target);draw(e.target);}}),
    {rootMargin:'800px'}):null;
  queued.forEach((_,id)=>{const div=$(id);if(!div)return;if(near)near.observe(div);
    else draw(div);});
  function apply(){const s=state();let shown=0,total=0;
    document.querySelectorAll('.js-plotly-plot').forEach(div=>filterFigure(div,s));
    document.querySelectorAll('table[data-keyed]').forEach(tb=>{let n=0,m=0;
      tb.querySelectorAll('tr[data-key]').forEach(tr=>{
        const ok=match(tr.dataset.key,s,tr.textContent);
        tr.style.display=ok?'':'none';m++;if(ok)n++;});
      const c=tb.parentElement.previousElementSibling;
      if(c&&c.classList.contains('count'))c.textContent=n+' of '+m+' rows';
      shown+=n;total+=m;});
    document.querySelectorAll('.budget button').forEach(btn=>btn.classList.toggle(
      'on',parseFloat(btn.dataset.budget)===s.budget));
    (window.detcostViews||[]).forEach(v=>v(s,matchKey));
    const c=$('f-count');if(c)c.textContent=total?shown+' of '+total+' table rows shown':'';
    toURL(s);}
  function reset(){keys.forEach(k=>{const el=$('f-'+k);if(el)el.value=el.dataset.default||'';});
    if($('f-q'))$('f-q').value='';const b=$('f-budget');if(b)b.value=b.dataset.default;
    apply();}
  // every table sorts by a click on a column's header (numbers as numbers), again to reverse
  document.querySelectorAll('table[data-keyed] thead th').forEach(th=>{
    th.classList.add('sortable');th.addEventListener('click',()=>{
      const body=th.closest('table').tBodies[0],i=th.cellIndex;
      const dir=th.dataset.dir==='asc'?'desc':'asc';th.dataset.dir=dir;
      const val=r=>{const t=r.cells[i]?r.cells[i].textContent:'',n=parseFloat(t);
        return isNaN(n)?t:n;};
      [...body.rows].sort((a,b)=>{const x=val(a),y=val(b);const c=(typeof x==='number'&&
        typeof y==='number')?x-y:String(x).localeCompare(String(y));return dir==='asc'?c:-c;})
        .forEach(r=>body.appendChild(r));});});
  window.detcostApply=apply;
  document.querySelectorAll('.filters select').forEach(el=>el.addEventListener('change',apply));
  document.querySelectorAll('.filters input').forEach(el=>el.addEventListener('input',apply));
  document.querySelectorAll('.budget button').forEach(btn=>btn.addEventListener('click',()=>{
    $('f-budget').value=btn.dataset.budget;apply();}));
  if($('f-reset'))$('f-reset').addEventListener('click',reset);
  window.addEventListener('hashchange',()=>{fromURL();apply();});
  fromURL();apply();
})();
