
(function(){
  const keys = ["gpu", "torch", "family", "dtype", "precision"];
  function parse(k){const o={};(k||'').split('|').forEach(p=>{const i=p.indexOf('=');
    if(i>0)o[p.slice(0,i)]=p.slice(i+1);});return o;}
  function wanted(){const w={};keys.forEach(k=>{const s=document.getElementById('f-'+k);
    if(s&&s.value)w[k]=s.value;});return w;}
  function match(key,w){const o=parse(key);return Object.keys(w).every(k=>!(k in o)||o[k]===w[k]);}
  const perPoint=['x','y','ids','text','customdata','z'];
  const isArr=a=>Array.isArray(a)||ArrayBuffer.isView(a);
  function filterTrace(t,w){
    if(t.type==='heatmap'&&t.meta&&t.meta.rowkeys){const keep=t.meta.rowkeys.map(k=>match(k,w));
      return Object.assign({},t,{z:t.z.filter((_,i)=>keep[i]),y:t.y.filter((_,i)=>keep[i]),
        text:t.text?t.text.filter((_,i)=>keep[i]):t.text});}
    if(!t.ids)return t;
    const keep=t.ids.map(k=>match(k,w)),c=Object.assign({},t);
    perPoint.forEach(p=>{if(isArr(t[p])&&t[p].length===keep.length)
      c[p]=t[p].filter((_,i)=>keep[i]);});
    ['error_x','error_y'].forEach(e=>{if(t[e]){c[e]=Object.assign({},t[e]);
      ['array','arrayminus'].forEach(a=>{if(isArr(t[e][a]))
        c[e][a]=t[e][a].filter((_,i)=>keep[i]);});}});
    if(t.marker&&isArr(t.marker.color)){c.marker=Object.assign({},t.marker,
      {color:t.marker.color.filter((_,i)=>keep[i])});}
    return c;}
  function apply(){const w=wanted();
    document.querySelectorAll('.js-plotly-plot').forEach(div=>{
      if(!div._original)div._original=JSON.parse(JSON.stringify(div.data));
      Plotly.react(div,div._original.map(t=>filterTrace(t,w)),div.layout);});
    document.querySelectorAll('tr[data-key]').forEach(tr=>{
      tr.style.display=match(tr.dataset.key,w)?'':'none';});}
  document.querySelectorAll('.filters select').forEach(s=>s.addEventListener('change',apply));
})();
