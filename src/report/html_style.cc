// The report's inline stylesheet and its few lines of optional JavaScript.
#include "report/html_sections.h"

namespace lorank::report {

std::string page_css() {
  // System fonts only (no web fonts: the page must render offline). Palette: slate greys,
  // blue for data, orange for the recommendation, red for untrained; Tableau 10 per type.
  return R"CSS(:root{--ink:#1e293b;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;
--blue:#2563eb;--orange:#ea580c;--red:#dc2626;--grey:#94a3b8}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.page{max-width:1240px;margin:0 auto;padding:0 20px 40px}
header.top{padding:22px 0 10px}
.brand{font-size:12px;letter-spacing:.12em;text-transform:uppercase;color:var(--blue);font-weight:700}
h1{margin:2px 0 2px;font-size:26px;overflow-wrap:anywhere}
.path{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:var(--muted);overflow-wrap:anywhere}
.chips{margin-top:10px;display:flex;flex-wrap:wrap;gap:6px}
.chip{background:#e0e7ff;color:#1e3a8a;border-radius:12px;padding:2px 10px;font-size:12px;overflow-wrap:anywhere}
.chip span{color:#475569}
nav.toc{position:sticky;top:0;z-index:5;background:rgba(248,250,252,.95);border-bottom:1px solid var(--line);
padding:8px 0;display:flex;gap:18px;font-size:13px}
nav.toc a{color:var(--blue);text-decoration:none}
section{margin-top:26px}
h2{font-size:19px;margin:0 0 6px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:14px;margin:0 0 4px}
.note{color:var(--muted);margin:4px 0 12px;max-width:980px}
.empty{color:var(--muted);font-style:italic}
.cards{display:grid;grid-template-columns:repeat(3,1fr) 1.6fr 1.6fr;gap:12px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card.warn{border-color:#fecaca;background:#fef2f2}
.card.warn .card-value{color:var(--red)}
.card-label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.card-value{font-size:26px;font-weight:650;margin:2px 0}
.card-detail{font-size:12px;color:var(--muted)}
.card.wide .card-value{font-size:13px;font-weight:400}
.ba-row{display:grid;grid-template-columns:34px 1fr auto;align-items:center;gap:8px;margin:3px 0}
.ba-row span{font-size:11px;color:var(--muted)}
.bar{height:10px;background:#f1f5f9;border-radius:5px;overflow:hidden}
.bar-now{height:100%;background:var(--grey)}
.bar-rec{height:100%;background:var(--blue)}
.warnings{margin-top:12px;background:#fffbeb;border:1px solid #fde68a;border-radius:8px;padding:10px 14px}
.warnings ul{margin:0;padding-left:20px}
.warnings li{overflow-wrap:anywhere}
.typeindex{display:flex;flex-wrap:wrap;gap:4px 14px;margin:0 0 10px;font-size:12px}
.typeindex a{color:var(--ink);text-decoration:none;overflow-wrap:anywhere}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.muted{color:var(--muted);font-weight:400}
.bad{color:var(--red)}
.groups{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
details.group{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px;max-width:100%}
details.group summary{cursor:pointer;font-weight:600;margin-bottom:6px;overflow-wrap:anywhere}
svg{max-width:100%;height:auto;display:block}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.lg{display:inline-block;width:14px;height:10px;margin:0 4px 0 10px;vertical-align:0}
.lg-keep{background:#dbeafe}.lg-rec{border-left:2px solid var(--orange);width:2px}
.lg-cur{border-left:2px dashed #64748b;width:2px}.lg-tau{border-top:1px dotted #0f766e;height:1px;vertical-align:4px}
.pbg{fill:#fff;stroke:var(--line)}.plot{fill:#fcfdff;stroke:#cbd5e1;stroke-width:.6}
.keep{fill:#dbeafe;opacity:.75}.grid{stroke:#e2e8f0;stroke-width:.6}
.pt{font-size:10.5px;font-weight:600;fill:var(--ink)}.ps{font-size:9px;fill:var(--muted)}
.tk{font-size:8.5px;fill:#64748b}
.tau{stroke:#0f766e;stroke-width:.8;stroke-dasharray:1.5 2}
.cur{stroke:#64748b;stroke-width:1;stroke-dasharray:3 2}
.rec{stroke:var(--orange);stroke-width:1.4}.rec-t{font-size:9px;fill:var(--orange);font-weight:700}
.sv{fill:none;stroke:var(--blue);stroke-width:1.4;stroke-linejoin:round}
.dot{fill:var(--blue)}.dot-out{fill:#fff;stroke:#94a3b8;stroke-width:.8}
.flat{fill:#f1f5f9;stroke:#cbd5e1;stroke-width:.6}.flatline{stroke:var(--red);stroke-width:1.5}
.flat-t{font-size:11px;fill:var(--red);font-weight:600}.flat-s{font-size:9px;fill:var(--muted)}
.heatwrap svg{margin-bottom:6px}
.hl{font-size:10.5px;fill:var(--ink)}.hr{font-size:10px;fill:#475569}
.hempty{fill:#fff;stroke:#e2e8f0}.huntrained{fill:#fee2e2;stroke:#fca5a5}
.hx{font-size:10px;fill:var(--red)}.hv{font-size:10px;fill:#1e293b}.hv.dark{fill:#fff}
.en{fill:none;stroke-width:1;opacity:.5}.en-med{fill:none;stroke:#0f172a;stroke-width:2}
.c0{stroke:#4e79a7}.c1{stroke:#f28e2b}.c2{stroke:#e15759}.c3{stroke:#76b7b2}.c4{stroke:#59a14f}
.c5{stroke:#edc948}.c6{stroke:#b07aa1}.c7{stroke:#ff9da7}.c8{stroke:#9c755f}.c9{stroke:#bab0ac}
.g90,.g95,.g99{stroke:#94a3b8;stroke-width:.8;stroke-dasharray:4 3}.g99{stroke:#475569}
.config{position:relative}
pre{background:#0f172a;color:#e2e8f0;border-radius:8px;padding:14px 16px;overflow:auto;max-height:480px;
font:12.5px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
.copy{position:absolute;top:8px;right:8px;background:#334155;color:#fff;border:0;border-radius:5px;padding:4px 10px;cursor:pointer}
#filter{margin:0 0 8px;padding:5px 9px;width:320px;border:1px solid #cbd5e1;border-radius:6px;font:inherit}
.js-only{display:none}html.js .js-only{display:inline}html.js input.js-only{display:block}
.tablewrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:12px;font-variant-numeric:tabular-nums}
th{position:sticky;top:0;background:#f1f5f9;text-align:left;padding:6px 8px;border-bottom:1px solid #cbd5e1;
white-space:nowrap;cursor:pointer;user-select:none}
th.num{text-align:right}th::after{content:" \2195";color:#cbd5e1;font-size:10px}
td{padding:4px 8px;border-bottom:1px solid #f1f5f9;text-align:right;white-space:nowrap}
td.name,td.type{text-align:left;white-space:normal;overflow-wrap:anywhere;max-width:420px;
font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11.5px}
td.type{white-space:nowrap;color:#475569}
tbody tr:nth-child(even){background:#fafbfc}tbody tr:hover{background:#eff6ff}
tr.untr td{color:#94a3b8}td.untr-cell{text-align:center;font-style:italic}
.badge{border-radius:9px;padding:1px 7px;font-size:11px}.badge.bad{background:#fee2e2;color:var(--red)}
.kbar{display:inline-block;width:40px;height:6px;background:#e2e8f0;border-radius:3px;margin-right:6px;vertical-align:1px}
.kbar span{display:block;height:100%;background:var(--blue);border-radius:3px}
.reading{background:#f0f9ff;border:1px solid #bae6fd;border-radius:8px;padding:8px 14px;margin:0 0 12px;max-width:980px}
.reading p{margin:4px 0}#base th{cursor:default}#base th::after{content:none}
.pbar{position:relative;display:inline-block;width:90px;height:7px;background:#e2e8f0;border-radius:3px;margin-right:6px;vertical-align:1px}
.pbar span{display:block;height:100%;background:var(--blue);border-radius:3px}
.pbar i{position:absolute;top:-3px;width:2px;height:13px;background:var(--red)}
footer{margin-top:30px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:10px}
@media (max-width:900px){.cards{grid-template-columns:1fr 1fr}}
@media print{.noprint,.copy{display:none!important}body{background:#fff;font-size:11px}
.page{max-width:none;padding:0}nav.toc{display:none}details.group,.panel,tr{break-inside:avoid}
pre{max-height:none;background:#f8fafc;color:#0f172a;border:1px solid var(--line)}
th{position:static}@page{size:A4 landscape;margin:10mm}}
)CSS";
}

std::string page_script() {
  // Progressive enhancement only: the page is complete without it. No file-derived text
  // is ever passed to innerHTML (only textContent/attributes are read).
  return R"JS(document.documentElement.classList.add('js');
(function(){
var pre=document.getElementById('config-text');
if(pre&&navigator.clipboard){var b=document.createElement('button');b.className='copy';b.textContent='Copy';
b.onclick=function(){navigator.clipboard.writeText(pre.textContent).then(function(){b.textContent='Copied';
setTimeout(function(){b.textContent='Copy';},1500);});};pre.parentNode.insertBefore(b,pre);}
var t=document.getElementById('module-table');if(!t)return;var body=t.tBodies[0];
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){var asc=true;th.onclick=function(){
var rows=Array.prototype.slice.call(body.rows),num=th.classList.contains('num');
rows.sort(function(a,b){var x=a.cells[Math.min(i,a.cells.length-1)],y=b.cells[Math.min(i,b.cells.length-1)];
var r=num?parseFloat(x.dataset.v)-parseFloat(y.dataset.v):x.textContent.localeCompare(y.textContent);
return asc?r:-r;});asc=!asc;rows.forEach(function(r){body.appendChild(r);});};});
var f=document.getElementById('filter');if(f)f.oninput=function(){var q=f.value.toLowerCase();
Array.prototype.forEach.call(body.rows,function(r){var s=(r.cells[1].title+' '+r.cells[2].textContent).toLowerCase();
r.style.display=s.indexOf(q)<0?'none':'';});};
})();
)JS";
}

}  // namespace lorank::report
