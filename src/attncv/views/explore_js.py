"""The few lines of browser code behind :mod:`attncv.views.explore`: they load plotly once,
unpack the explorer's bytes, draw the photo and the map (or the gates) with plotly, and answer
the controls and the pointer (plotly's ``plotly_hover`` and ``plotly_click`` events,
``Plotly.restyle``). Plotly is the book's own copy where the page has one (``_ext/plotly_once.py``
adds it to every page with an explorer), else one already on the page (``plotly_here()``), else
the CDN's copy of the same version (Jupyter and Colab with internet).
"""

from __future__ import annotations

CSS = """
.attncv-explorer{margin:.5em 0;max-width:100%}
.attncv-explorer .ax-controls{display:none;flex-wrap:wrap;gap:.3em 1em;margin-bottom:.3em;
  font-size:.9em}
.attncv-explorer .ax-controls select{max-width:15em;font-size:1em}
.attncv-explorer .ax-plots{display:none;flex-wrap:wrap;gap:.5em}
.attncv-explorer .ax-plot{flex:1 1 280px;max-width:380px;min-width:0;height:300px}
.attncv-explorer .ax-note{font-size:.85em;margin:.2em 0}
.attncv-explorer .ax-static img{max-width:100%;height:auto}
.attncv-explorer.ax-live .ax-controls,.attncv-explorer.ax-live .ax-plots{display:flex}
.attncv-explorer.ax-live .ax-static{display:none}
@media print{.attncv-explorer.ax-live .ax-static{display:block}
  .attncv-explorer .ax-controls,.attncv-explorer .ax-plots{display:none!important}}
"""

GLUE = r"""
(function () {
  const root = document.getElementById(ID);
  const spec = JSON.parse(document.getElementById(ID + '-data').textContent);
  const $ = (k) => root.querySelector('[data-ax=' + k + ']');
  function withPlotly(go) {
    if (window.Plotly) return go();
    if (document.readyState === 'loading' && document.querySelector('script[src*="plotly"]'))
      return document.addEventListener('DOMContentLoaded', () => window.Plotly && go());
    const s = document.createElement('script');
    s.src = spec.cdn; s.onload = go;
    s.onerror = () => { $('status').textContent = 'plotly did not load (offline? run ' +
      'attncv.views.explore.plotly_here() in a cell first): the static figure shows image 1.'; };
    document.head.appendChild(s);
  }
  async function unpack(text) {
    const raw = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    const out = new Response(new Blob([raw]).stream()
                .pipeThrough(new DecompressionStream('deflate')));
    return new Uint8Array(await out.arrayBuffer());
  }
  const state = {view: 0, item: 0, net: 0, q: null};
  let bytes = null;
  const items = spec.images.length;
  function block(v, k, i) {  // the bytes of view v, network k, image (or class) i
    const size = v.size;
    if (i < items) return bytes.subarray(v.offset + (k * items + i) * size,
                                         v.offset + (k * items + i + 1) * size);
    const c = i - items, o = v.classOffset + (k * spec.classes.length + c) * size;
    return bytes.subarray(o, o + size);
  }
  function grid(values, rows, cols, scale) {
    const z = [];
    for (let r = 0; r < rows; r++) z.push(Array.from(values.subarray(r * cols, (r + 1) * cols),
                                                      (b) => b / scale));
    return z;
  }
  function cellMap(v) {  // heatmap placement: the key grid over the photo's pixels
    const [h, w] = v.keys, s = spec.size;
    return {x0: s / w / 2 - 0.5, dx: s / w, y0: s / h / 2 - 0.5, dy: s / h};
  }
  function queryPixel(v) {
    const [qr, qc] = state.q, s = spec.size, [h, w] = v.grid;
    const r = qr * v.stride + v.start, c = qc * v.stride + v.start;
    return [(c + 0.5) * s / w - 0.5, (r + 0.5) * s / h - 0.5, r, c];
  }
  function mapData() {
    const v = spec.views[state.view], k = state.net, i = state.item;
    const b = block(v, k, i);
    if (v.type === 'bars') return {type: 'bar', y: Array.from(b, (x) => x / 255),
      marker: {color: '#3b528b'}, hovertemplate: 'channel %{x}: %{y:.2f}<extra></extra>'};
    if (v.type === 'map') return Object.assign({type: 'heatmap', zmin: 0, zmax: 1,
      z: grid(b, v.grid[0], v.grid[1], 255), colorscale: 'Viridis',
      colorbar: {thickness: 10, len: 0.8, title: {text: spec.colorTitle, side: 'right'}},
      hovertemplate: 'gate %{z:.2f}<extra></extra>'}, cellMap(v));
    const [qh, qw] = v.queries, q = state.q[0] * qw + state.q[1], S = v.keys[0] * v.keys[1];
    return Object.assign({type: 'heatmap', zmin: 0, zmax: 1, colorscale: 'Viridis',
      z: grid(b.subarray(q * S, (q + 1) * S), v.keys[0], v.keys[1], 255),
      colorbar: {thickness: 10, len: 0.8, title: {text: spec.colorTitle, side: 'right'}},
      hovertemplate: '%{z:.2f} of the max<extra></extra>'}, cellMap(v));
  }
  function title() {
    const v = spec.views[state.view], net = state.net ? 'control' : 'trained';
    if (v.type !== 'query') return net;
    const [qh, qw] = v.queries, q = state.q[0] * qw + state.q[1];
    const top = spec.maxima[v.maxOffset + ((state.net * items + state.item) * qh * qw + q)];
    return net + '<br>max ' + top.toPrecision(2) + ' (uniform ' +
           (1 / (v.keys[0] * v.keys[1])).toPrecision(2) + ')';
  }
  const axis = {visible: false, fixedrange: true};
  const frame = {margin: {l: 4, r: 4, t: 52, b: 4}, font: {size: 12}, dragmode: false,
                 paper_bgcolor: 'rgba(0,0,0,0)', plot_bgcolor: 'rgba(0,0,0,0)'};
  const config = {displayModeBar: false, responsive: true, scrollZoom: false};
  function photoLayout() {
    const s = spec.size, isClass = state.item >= items;
    const name = isClass ? spec.classes[state.item - items] : spec.labels[state.item];
    return Object.assign({}, frame, {title: {text: (isClass ? 'class mean: ' : '') + name},
      xaxis: Object.assign({range: [-0.5, s - 0.5]}, axis),
      yaxis: Object.assign({range: [s - 0.5, -0.5], scaleanchor: 'x'}, axis)});
  }
  function marker() {
    const v = spec.views[state.view];
    if (v.type !== 'query') return {x: [], y: []};
    const [x, y] = queryPixel(v);
    return {x: [x], y: [y]};
  }
  function star() {
    return Object.assign({type: 'scatter', mode: 'markers', hoverinfo: 'skip',
      marker: {symbol: 'star', size: 14, color: 'white', line: {color: 'black', width: 1}}},
      marker());
  }
  function draw() {
    const v = spec.views[state.view], photo = $('photo'), map = $('map');
    const src = state.item < items ? spec.images[state.item] : spec.blank;
    Plotly.react(photo, [{type: 'image', source: src, hoverinfo: 'x+y',
      hovertemplate: 'pixel (%{y}, %{x})<extra></extra>'}, star()], photoLayout(), config);
    const bars = v.type === 'bars';
    const s = spec.size;
    Plotly.react(map, bars ? [mapData()] : [mapData(), star()], Object.assign({}, frame, {
      title: {text: title()},
      xaxis: bars ? {title: {text: 'channel'}, fixedrange: true}
                  : Object.assign({range: [-0.5, s - 0.5]}, axis),
      yaxis: bars ? {range: [0, 1], title: {text: spec.colorTitle}, fixedrange: true}
                  : Object.assign({range: [s - 0.5, -0.5], scaleanchor: 'x'}, axis),
      margin: bars ? {l: 44, r: 4, t: 52, b: 36} : frame.margin}), config);
    status();
  }
  function status() {
    const v = spec.views[state.view];
    if (v.type === 'query') {
      const [, , r, c] = queryPixel(v);
      $('status').textContent = 'Query at row ' + r + ', column ' + c + ' of ' + v.grid[0] +
                                'x' + v.grid[1] + '.';
    } else $('status').textContent = '';
    root.dataset.state = [state.view, state.item, state.net].concat(state.q || []).join(',');
  }
  function point(ev) {  // the pointer over the photo picks the nearest query
    const v = spec.views[state.view];
    if (v.type !== 'query' || !ev.points || !ev.points.length) return;
    const p = ev.points[0], [h, w] = v.grid, s = spec.size;
    const at = (px, n, cells) => Math.min(n - 1, Math.max(0,
      Math.round((Math.floor((px + 0.5) * cells / s) - v.start) / v.stride)));
    const q = [at(p.y, v.queries[0], h), at(p.x, v.queries[1], w)];
    if (state.q && q[0] === state.q[0] && q[1] === state.q[1]) return;
    state.q = q;
    Plotly.restyle($('map'), {z: [mapData().z]}, [0]);
    const m = marker();
    Plotly.restyle($('map'), {x: [m.x], y: [m.y]}, [1]);
    Plotly.restyle($('photo'), {x: [m.x], y: [m.y]}, [1]);
    Plotly.relayout($('map'), {'title.text': title()});
    status();
  }
  function centre(v) {
    return v.type === 'query' ? [v.queries[0] >> 1, v.queries[1] >> 1] : null;
  }
  withPlotly(async () => {
    bytes = await unpack(spec.data);
    state.q = centre(spec.views[0]);
    const fill = (sel, names) => names.forEach((n, i) => sel.add(new Option(n, i)));
    fill($('view'), spec.views.map((v) => v.name));
    fill($('item'), spec.labels.map((l, i) => (i + 1) + ': ' + l).concat(
         (spec.classes || []).map((c) => 'class mean: ' + c)));
    fill($('net'), spec.networks);
    $('view').onchange = (e) => { state.view = +e.target.value;
      if (state.item >= items && spec.views[state.view].classOffset === undefined) {
        state.item = 0; $('item').value = 0; }
      state.q = centre(spec.views[state.view]); draw(); };
    $('item').onchange = (e) => { state.item = +e.target.value;
      if (state.item >= items && spec.views[state.view].classOffset === undefined) {
        state.view = spec.views.findIndex((v) => v.classOffset !== undefined);
        $('view').value = state.view; }
      draw(); };
    $('net').onchange = (e) => { state.net = +e.target.value; draw(); };
    root.classList.add('ax-live');
    draw();
    $('photo').on('plotly_hover', point);
    $('photo').on('plotly_click', point);
    root.dataset.ready = '1';
  });
})();
"""
