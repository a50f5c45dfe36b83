// striate explore: the page. Everything it shows comes from the JSON API (/api/...); see docs/explorer.md.
// window.explorer exposes the state (pixels, prediction, selected cell) for scripts and tests.
"use strict";

(function () {
  const state = {
    model: null,        // GET /api/model
    shape: null,        // [H, W, C]
    pixels: null,       // Float32Array, H * W * C, row-major, values in [0, 1]
    prediction: null,   // the last POST /api/predict answer
    maps: null,         // the last POST /api/maps answer, layers by name
    selected: null,     // {layer, position, channel}
    cell: null,         // the last POST /api/cell answer
    busy: 0,            // requests in flight
    updates: 0,         // inputs fully shown (prediction, maps, cell, attribution): a script waits on this
  };
  window.explorer = state;

  const $ = (id) => document.getElementById(id);
  const el = (tag, attributes = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  };

  // ---- numbers --------------------------------------------------------------------------------------------
  function fmt(value, digits = 3) {
    if (value === null || value === undefined) return "—";
    if (value === 0) return "0";
    const size = Math.abs(value);
    if (size >= 1e5) return value.toExponential(2);
    if (size < Math.pow(10, -digits)) return size < 1e-6 ? value.toExponential(1) : value.toPrecision(2);
    return value.toFixed(digits).replace(/\.?0+$/, "");
  }
  const thousands = (n) => n.toLocaleString("en-US");
  const by = (shape) => shape.join("×");

  // ---- requests -------------------------------------------------------------------------------------------
  async function api(path, options = {}) {
    state.busy += 1;
    try {
      const response = await fetch(path, options);
      const type = response.headers.get("content-type") || "";
      const answer = type.includes("json") ? await response.json() : null;
      if (!response.ok) {
        throw new Error((answer && answer.error) || `${response.status} ${response.statusText}`);
      }
      return answer;
    } finally {
      state.busy -= 1;
    }
  }
  const post = (path, body) => api(path, {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify(body)});

  function showError(message) {
    $("error-text").textContent = message;
    $("error").hidden = false;
  }
  function hideError() { $("error").hidden = true; }

  // ---- pixels ---------------------------------------------------------------------------------------------
  function pixelsAsLists() {
    const [H, W, C] = state.shape;
    const rows = [];
    for (let r = 0; r < H; r++) {
      const row = [];
      for (let c = 0; c < W; c++) {
        const start = (r * W + c) * C;
        row.push(C === 1 ? state.pixels[start] : Array.from(state.pixels.slice(start, start + C)));
      }
      rows.push(row);
    }
    return rows;
  }

  function setPixels(lists) {
    const [H, W, C] = state.shape;
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        for (let k = 0; k < C; k++) {
          const value = lists[r][c];
          state.pixels[(r * W + c) * C + k] = Array.isArray(value) ? value[k] : value;
        }
      }
    }
    drawInput();
  }

  function inputScale() {
    const [H, W] = state.shape;
    return Math.max(1, Math.floor(280 / Math.max(H, W)));
  }

  // paint an H x W x C array into a canvas, `scale` screen pixels per cell; `value(r, c, k)` in [0, 1]
  function paint(canvas, H, W, C, scale, value) {
    canvas.width = W * scale;
    canvas.height = H * scale;
    const small = document.createElement("canvas");
    small.width = W;
    small.height = H;
    const context = small.getContext("2d");
    const image = context.createImageData(W, H);
    for (let r = 0; r < H; r++) {
      for (let c = 0; c < W; c++) {
        const at = (r * W + c) * 4;
        for (let k = 0; k < 3; k++) {
          image.data[at + k] = Math.round(255 * Math.min(1, Math.max(0, value(r, c, C === 3 ? k : 0))));
        }
        image.data[at + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
    const big = canvas.getContext("2d");
    big.imageSmoothingEnabled = false;
    big.drawImage(small, 0, 0, W * scale, H * scale);
  }

  function drawInput() {
    const [H, W, C] = state.shape;
    paint($("input-canvas"), H, W, C, inputScale(), (r, c, k) => state.pixels[(r * W + c) * C + k]);
    drawOverlay();
  }

  function drawOverlay() {
    const canvas = $("overlay-canvas");
    const source = $("input-canvas");
    canvas.width = source.width;
    canvas.height = source.height;
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (!state.cell) return;
    const scale = inputScale();
    const [H, W] = state.shape;
    const [top, left, bottom, right] = state.cell.region;
    const t = Math.max(0, top), l = Math.max(0, left), b = Math.min(H - 1, bottom), r = Math.min(W - 1, right);
    context.strokeStyle = "#ff2a2a";
    context.lineWidth = 3;
    context.strokeRect(l * scale + 1.5, t * scale + 1.5, (r - l + 1) * scale - 3, (b - t + 1) * scale - 3);
  }

  // ---- drawing with the mouse: a soft round brush, as MNIST's strokes ------------------------------------
  function setUpDrawing() {
    const canvas = $("input-canvas");
    let last = null;
    const [H, W, C] = state.shape;
    const inner = 0.8 * Math.max(H, W) / 28, outer = 1.9 * Math.max(H, W) / 28;
    const position = (event) => {
      const box = canvas.getBoundingClientRect();
      return [(event.clientY - box.top) / box.height * H, (event.clientX - box.left) / box.width * W];
    };
    const dab = (y, x) => {
      for (let r = Math.floor(y - outer); r <= Math.ceil(y + outer); r++) {
        for (let c = Math.floor(x - outer); c <= Math.ceil(x + outer); c++) {
          if (r < 0 || r >= H || c < 0 || c >= W) continue;
          const distance = Math.hypot(r + 0.5 - y, c + 0.5 - x);
          const ink = Math.min(1, Math.max(0, (outer - distance) / (outer - inner)));
          for (let k = 0; k < C; k++) {
            const at = (r * W + c) * C + k;
            state.pixels[at] = Math.max(state.pixels[at], ink);
          }
        }
      }
    };
    const stroke = (from, to) => {
      const steps = Math.max(1, Math.ceil(Math.hypot(to[0] - from[0], to[1] - from[1]) * 4));
      for (let s = 0; s <= steps; s++) {
        dab(from[0] + (to[0] - from[0]) * s / steps, from[1] + (to[1] - from[1]) * s / steps);
      }
      drawInput();
      predictSoon();
    };
    canvas.addEventListener("pointerdown", (event) => {
      hideError();
      canvas.setPointerCapture(event.pointerId);
      last = position(event);
      $("notes").replaceChildren(el("li", {}, drawnNote()));
      stroke(last, last);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (last === null) return;
      const now = position(event);
      stroke(last, now);
      last = now;
    });
    const end = () => {
      if (last === null) return;
      last = null;
      refreshAll();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
  }

  function drawnNote() {
    const [H, W] = state.shape;
    return `your drawing: ${H}×${W} pixels, 0 = black, 1 = white, sent to the network as they are`;
  }

  // ---- prediction -----------------------------------------------------------------------------------------
  let predicting = false, predictAgain = false;
  async function predictSoon() {
    if (predicting) { predictAgain = true; return; }
    predicting = true;
    try {
      do {
        predictAgain = false;
        showPrediction(await post("/api/predict", {pixels: pixelsAsLists()}));
      } while (predictAgain);
    } catch (error) {
      showError(error.message);
    } finally {
      predicting = false;
    }
  }

  function showPrediction(answer) {
    state.prediction = answer;
    const classes = state.model.classes;
    const best = answer.predicted;
    const p = answer.probabilities;
    const predicted = $("predicted");
    predicted.replaceChildren("The network says ", el("strong", {id: "predicted-class"}, classes[best]),
                              el("br"), `with probability ${p[best].toFixed(3)}`);
    predicted.dataset.class = String(best);
    // every class when there are at most 10; else the 10 most probable, most probable first
    const shown = p.map((_, i) => i);
    if (p.length > 10) shown.sort((a, b) => p[b] - p[a]).splice(10);
    $("bars-caption").textContent = p.length > 10 ? `the 10 most probable of ${p.length} classes` : "";
    const bars = $("bars");
    bars.replaceChildren(...shown.map((i) => [p[i], i]).map(([value, i]) => el("div", {
      class: "bar" + (i === best ? " best" : ""), "data-class": String(i), "data-probability": String(value),
      title: `class ${classes[i]}: probability ${value}`,
    }, el("span", {class: "value"}, value.toFixed(2)),
       el("span", {class: "track"}, el("span", {class: "fill", style: `height: ${(100 * value).toFixed(1)}%;`})),
       el("span", {class: "label"}, classes[i]))));
  }

  // ---- everything for the current input -------------------------------------------------------------------
  async function refreshAll() {
    const pixels = pixelsAsLists();
    try {
      const [prediction, maps] = await Promise.all([
        post("/api/predict", {pixels}), post("/api/maps", {pixels})]);
      showPrediction(prediction);
      showMaps(maps);
      if (state.selected) await selectCell(state.selected);
      await showAttribution();
    } catch (error) {
      showError(error.message);
    } finally {
      state.updates += 1;
    }
  }

  // ---- layers ---------------------------------------------------------------------------------------------
  function layerFacts(layer) {
    const facts = [`output ${by(layer.output_shape)}`, `${thousands(layer.params)} parameters`,
                   `${thousands(layer.macs)} multiplies`];
    if (layer.receptive_field && layer.output_shape.length === 3) {
      facts.push(`each value sees ${by(layer.receptive_field)} input pixels`);
    }
    return facts.join(" · ");
  }

  function layerType(layer) {
    const words = [layer.type];
    if (layer.kernel_size) words.push(`${by(layer.kernel_size)} kernel`);
    if (layer.pool_size) words.push(`${by(layer.pool_size)} window`);
    if (layer.strides && layer.strides.some((s) => s !== 1)) words.push(`stride ${by(layer.strides)}`);
    if (layer.padding) words.push(`padding ${layer.padding}`);
    if (layer.dilation_rate && layer.dilation_rate.some((d) => d !== 1)) words.push(`dilation ${by(layer.dilation_rate)}`);
    if (layer.activation && layer.activation !== "linear") words.push(layer.activation);
    return words.join(", ");
  }

  function buildLayers() {
    const box = $("layers");
    box.replaceChildren();
    for (const layer of state.model.layers) {
      const card = el("div", {class: "layer", id: `layer-${layer.name}`, "data-layer": layer.name},
                      el("h3", {}, `${layer.name} `, el("span", {class: "type"}, layerType(layer))),
                      el("p", {class: "facts"}, layerFacts(layer)));
      if (layer.pass_through) {
        card.append(el("p", {class: "hint"}, layer.pass_through));
      } else {
        card.append(el("div", {class: "maps"}));
      }
      if (layer.filters) {
        const button = el("button", {type: "button"}, "show the filters");
        const holder = el("div", {class: "filters"});
        button.addEventListener("click", () => toggleFilters(layer, holder, button));
        card.append(button, holder);
      }
      box.append(card);
    }
  }

  function decode(encoded) {
    const bytes = Uint8Array.from(atob(encoded.data), (ch) => ch.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  }

  function showMaps(answer) {
    state.maps = {};
    for (const entry of answer.layers) {
      state.maps[entry.name] = entry;
      const card = document.getElementById(`layer-${entry.name}`);
      if (!card || entry.data === null) continue;
      const values = decode(entry.data);
      const holder = card.querySelector(".maps");
      holder.replaceChildren();
      const low = entry.min, span = entry.max - entry.min || 1;
      if (entry.shape.length === 3) {
        const [H, W, C] = entry.shape;
        const scale = Math.max(2, Math.round(80 / Math.max(H, W)));
        for (let k = 0; k < C; k++) {
          const canvas = el("canvas", {"data-channel": String(k), title: `${entry.name}, channel ${k}`});
          paint(canvas, H, W, 1, scale, (r, c) => (values[(r * W + c) * C + k] - low) / span);
          canvas.addEventListener("click", (event) => {
            const box = canvas.getBoundingClientRect();
            const row = Math.min(H - 1, Math.floor((event.clientY - box.top) / box.height * H));
            const column = Math.min(W - 1, Math.floor((event.clientX - box.left) / box.width * W));
            selectCell({layer: entry.name, position: [row, column], channel: k});
          });
          holder.append(el("div", {class: "map", "data-channel": String(k)}, canvas, String(k)));
        }
      } else {
        const n = entry.shape[0], perRow = Math.min(n, 40), rows = Math.ceil(n / perRow), size = 9;
        const canvas = el("canvas", {title: `${entry.name}: ${n} values`});
        canvas.width = perRow * size;
        canvas.height = rows * size;
        const context = canvas.getContext("2d");
        for (let i = 0; i < n; i++) {
          const grey = Math.round(255 * (values[i] - low) / span);
          context.fillStyle = `rgb(${grey},${grey},${grey})`;
          context.fillRect((i % perRow) * size, Math.floor(i / perRow) * size, size - 1, size - 1);
        }
        canvas.addEventListener("click", (event) => {
          const box = canvas.getBoundingClientRect();
          const i = Math.floor((event.clientY - box.top) / size) * perRow + Math.floor((event.clientX - box.left) / size);
          if (i < n) selectCell({layer: entry.name, position: [i], channel: 0});
        });
        holder.append(el("div", {class: "vector"}, canvas));
      }
    }
    markSelected();
  }

  function markSelected() {
    for (const node of document.querySelectorAll(".map.selected")) node.classList.remove("selected");
    const s = state.selected;
    if (!s || !state.maps || !state.maps[s.layer] || state.maps[s.layer].shape.length !== 3) return;
    const map = document.querySelector(`#layer-${CSS.escape(s.layer)} .map[data-channel="${s.channel}"]`);
    if (!map) return;
    map.classList.add("selected");
    const canvas = map.querySelector("canvas");
    const [H, W] = state.maps[s.layer].shape;
    const scale = canvas.width / W;
    const context = canvas.getContext("2d");
    context.strokeStyle = "#ff2a2a";
    context.lineWidth = 2;
    context.strokeRect(s.position[1] * scale - 2, s.position[0] * scale - 2, scale + 4, scale + 4);
  }

  async function toggleFilters(layer, holder, button, channel) {
    if (holder.childElementCount && channel === undefined) {
      holder.replaceChildren();
      button.textContent = "show the filters";
      return;
    }
    try {
      const query = `/api/filters?layer=${encodeURIComponent(layer.name)}` +
                    (channel === undefined ? "" : `&input_channel=${channel}`);
      const answer = await api(query);
      const [kh, kw, inputs, count] = answer.kernel_shape;
      const colour = answer.images[0][0][0].length === 3;
      const maps = el("div", {class: "maps"});
      const scale = Math.max(6, Math.round(36 / Math.max(kh, kw)));
      answer.images.forEach((image, i) => {
        const canvas = el("canvas", {title: `filter ${i}`});
        paint(canvas, kh, kw, colour ? 3 : 1, scale, (r, c, k) => colour ? image[r][c][k] : image[r][c]);
        maps.append(el("div", {class: "map"}, canvas, String(i)));
      });
      const shown = colour ? "in colour (RGB)" : `input channel ${answer.input_channel || 0} of ${inputs}`;
      const caption = el("p", {class: "hint"}, `${count} filters ${kh}×${kw}, ${shown}; each scaled to its own ` +
                         `min..max (kernel values from ${fmt(answer.min)} to ${fmt(answer.max)}). `);
      if (!colour && inputs > 1) {
        const select = el("select", {});
        for (let k = 0; k < inputs; k++) select.append(el("option", {value: String(k)}, `input channel ${k}`));
        select.value = String(answer.input_channel || 0);
        select.addEventListener("change", () => toggleFilters(layer, holder, button, Number(select.value)));
        caption.append(select);
      }
      holder.replaceChildren(caption, maps);
      button.textContent = "hide the filters";
    } catch (error) {
      showError(error.message);
    }
  }

  // ---- one cell -------------------------------------------------------------------------------------------
  async function selectCell(selection) {
    state.selected = selection;
    try {
      const answer = await post("/api/cell", {pixels: pixelsAsLists(), ...selection});
      state.cell = answer;
      showCell(answer);
      drawOverlay();
      markSelected();
    } catch (error) {
      showError(error.message);
    }
  }

  const ACTIVATIONS = {
    relu: "max(0, z)", sigmoid: "1 / (1 + e^-z)", tanh: "tanh(z)", elu: "z if z > 0 else e^z - 1",
    leaky_relu: "z if z > 0 else 0.2 z",
  };

  function grid(values, inside, cellClass, channel, best) {
    const table = el("table", {class: "grid"});
    values.forEach((row, r) => {
      const tr = el("tr");
      row.forEach((cell, c) => {
        const value = channel === null ? cell : cell[channel];
        const classes = [inside && !inside[r][c] ? "padding" : cellClass];
        if (best && best[0] === r && best[1] === c) classes.push("best");
        const shown = value === 0 ? "0" : value.toFixed(3);
        tr.append(el("td", {class: classes.join(" "), "data-value": String(value), title: String(value)}, shown));
      });
      table.append(tr);
    });
    return table;
  }
  const box = (title, table) => el("div", {class: "grid-box"}, title, table);

  function showCell(answer) {
    const holder = $("cell");
    const layer = state.model.layers.find((l) => l.name === answer.layer);
    const where = answer.position.length === 2
      ? `row ${answer.position[0]}, column ${answer.position[1]}, channel ${answer.channel}`
      : `value ${answer.position[0]}`;
    const [top, left, bottom, right] = answer.region;
    const parts = [
      el("p", {class: "title"}, `${answer.layer} (${layer.type}): ${where}`),
      el("p", {}, "The feature map holds ", el("strong", {id: "cell-output", "data-value": String(answer.output)},
                                            fmt(answer.output, 4)), "."),
      el("p", {class: "hint"}, answer.position.length === 2
        ? `It sees input rows ${top}–${bottom}, columns ${left}–${right} (outlined in red on the input` +
          `${top < 0 || left < 0 || bottom >= state.shape[0] || right >= state.shape[1] ? "; part of it is padding" : ""}).`
        : "It sees the whole input."),
    ];
    const a = answer.arithmetic;
    if (!a) {
      parts.push(el("p", {id: "cell-note"}, answer.note));
      holder.replaceChildren(...parts);
      return;
    }
    const n = a.input_channels.length;
    const sizeText = `${a.window.length}×${a.window[0].length}`;
    const spacing = a.dilation.some((d) => d !== 1) ? ` (dilation ${by(a.dilation)}: cells ${by(a.dilation)} apart)` : "";
    const source = answer.input[0] === "input" ? "input pixels" : `cells of ${answer.input[0]}'s output`;
    parts.push(el("p", {class: "hint"}, `The window: ${sizeText} ${source}, starting at row ${a.origin[0]}, ` +
      `column ${a.origin[1]}${spacing}, stride ${by(a.strides)}; grey cells are padding (0).`));
    const detail = el("div", {id: "cell-detail"});
    parts.push(detail);
    const pooling = a.kernel === null;
    const showChannel = (i) => {
      const channel = a.input_channels[i];
      const rows = [];
      if (pooling) {
        let best = null;
        if (a.kind === "max pooling") {
          let top = -Infinity;
          a.window.forEach((row, r) => row.forEach((cell, c) => {
            if (a.inside[r][c] && cell[0] > top) { top = cell[0]; best = [r, c]; }
          }));
        }
        rows.push(el("div", {class: "arith"}, box(`window (input channel ${channel})`, grid(a.window, a.inside, "win", i, best))));
        const count = a.inside.flat().filter(Boolean).length;
        rows.push(el("p", {class: "equation", id: "cell-total", "data-value": String(a.total)},
          a.kind === "max pooling" ? `max of the window = ${fmt(a.total, 4)}`
            : `mean = ${fmt(a.channel_sums[0], 4)} / ${count} cells = ${fmt(a.total, 4)}`));
      } else {
        rows.push(el("div", {class: "arith"},
          box(n > 1 || a.kind === "depthwise convolution" ? `window, input channel ${channel}` : "window",
              grid(a.window, a.inside, "win", i)),
          el("span", {class: "op"}, "×"), box("kernel", grid(a.kernel, null, "kernel", i)),
          el("span", {class: "op"}, "="), box("products", grid(a.products, a.inside, "product", i))));
        rows.push(el("p", {class: "equation", id: "cell-channel-sum", "data-value": String(a.channel_sums[i])},
          `sum of the ${a.window.length * a.window[0].length} products` +
          `${n > 1 ? ` (input channel ${channel})` : ""} = ${fmt(a.channel_sums[i], 4)}`));
      }
      detail.replaceChildren(...rows);
      for (const tr of holder.querySelectorAll("table.sums tr[data-index]")) {
        tr.classList.toggle("shown", Number(tr.dataset.index) === i);
      }
    };
    if (!pooling && n > 1) {
      const table = el("table", {class: "sums"}, el("tr", {}, el("th", {}, "input channel"), el("th", {}, "sum of products")));
      a.channel_sums.forEach((value, i) => {
        const tr = el("tr", {"data-index": String(i), "data-value": String(value)},
                      el("td", {}, String(a.input_channels[i])), el("td", {}, fmt(value, 4)));
        tr.addEventListener("click", () => showChannel(i));
        table.append(tr);
      });
      parts.push(el("p", {class: "hint"}, `The kernel reads ${n} input channels; each gives a sum of products ` +
                    "(click a row to see its window):"), el("div", {class: "channel-list"}, table));
    }
    if (!pooling) {
      if (n > 1) {
        parts.push(el("p", {class: "equation", id: "cell-total", "data-value": String(a.total)},
                      `sum over the ${n} channels = ${fmt(a.total, 4)}`));
      }
      if (a.bias !== null) {
        parts.push(el("p", {class: "equation", id: "cell-bias", "data-value": String(a.bias)},
                      `z = ${fmt(a.total, 4)} + bias ${fmt(a.bias, 4)} = ${fmt(a.z, 4)}`));
      }
      if (a.activation !== "linear") {
        const formula = ACTIVATIONS[a.activation] || `${a.activation}(z)`;
        parts.push(el("p", {class: "equation", id: "cell-activation"},
                      `${a.activation}(z) = ${formula} = `, el("strong", {}, fmt(a.value, 4))));
      }
    }
    const same = Math.abs(a.value - answer.output) <= 1e-5 * Math.max(1, Math.abs(answer.output));
    parts.push(el("p", {id: "cell-value", "data-value": String(a.value), class: same ? "check" : "mismatch"},
      same ? `= ${fmt(a.value, 4)}, the number in the feature map ✓`
           : `= ${fmt(a.value, 4)}, but the feature map holds ${fmt(answer.output, 4)}`));
    holder.replaceChildren(...parts);
    let first = 0;
    if (!pooling && n > 1) {
      a.channel_sums.forEach((value, i) => { if (Math.abs(value) > Math.abs(a.channel_sums[first])) first = i; });
    }
    showChannel(first);
  }

  // ---- attribution ----------------------------------------------------------------------------------------
  async function showAttribution() {
    const method = $("attribution-method").value;
    try {
      const answer = await post("/api/attribution", {pixels: pixelsAsLists(), method});
      const [H, W, C] = state.shape;
      const scale = Math.max(1, Math.floor(200 / Math.max(H, W)));
      // the input in grey, the map in red on top (alpha = the scaled map)
      paint($("attribution-canvas"), H, W, 3, scale, (r, c, k) => {
        let grey = 0;
        for (let j = 0; j < C; j++) grey += state.pixels[(r * W + c) * C + j] / C;
        const heat = answer.scaled[r][c];
        const red = [1, 0.1, 0.1][k];
        return 0.35 * grey * (1 - heat) + heat * red;
      });
      const words = {saliency: "|d score / d pixel| (Simonyan et al. 2014)",
                     guided: "guided backpropagation (Springenberg et al. 2015)",
                     occlusion: "how much the probability drops when a square hides the pixel (Zeiler & Fergus 2014)"};
      $("attribution-caption").textContent =
        `Red: the pixels class ${state.model.classes[answer.class]} depends on most — ${words[method]}.`;
    } catch (error) {
      showError(error.message);
    }
  }

  // ---- inputs: samples and uploads ------------------------------------------------------------------------
  function showNotes(notes) {
    $("notes").replaceChildren(...notes.map((note) => el("li", {}, note)));
  }

  async function loadSample(name) {
    if (!name) return;
    hideError();
    try {
      const answer = await api(`/api/sample?name=${encodeURIComponent(name)}`);
      setPixels(answer.pixels);
      showNotes(answer.notes);
      await refreshAll();
    } catch (error) {
      showError(error.message);
    }
  }

  async function upload(file) {
    if (!file) return;
    hideError();
    try {
      const answer = await api("/api/image", {method: "POST", body: file});
      setPixels(answer.pixels);
      showNotes(answer.notes);
      await refreshAll();
    } catch (error) {
      showError(`${file.name}: ${error.message}`);
    }
  }

  // ---- the convolution arithmetic tab ---------------------------------------------------------------------
  const arithmetic = {settings: null, step: 0, pictures: 1, timer: null};

  async function updateArithmetic() {
    const form = $("arithmetic-form");
    const query = new URLSearchParams();
    for (const name of ["input", "kernel", "stride", "padding", "dilation"]) query.set(name, form.elements[name].value);
    query.set("transposed", form.elements.transposed.checked ? "true" : "false");
    try {
      const answer = await api(`/api/arithmetic?${query}`);
      hideError();
      arithmetic.settings = query;
      arithmetic.pictures = answer.pictures;
      $("general-formula").textContent = `per axis: ${answer.general_formula}`;
      $("formula").textContent = `${answer.formula}   →   output ${by(answer.output_size)}`;
      $("arithmetic-caption").textContent = answer.caption;
      $("step-slider").max = String(answer.pictures - 1);
      showStep(Math.min(arithmetic.step, answer.pictures - 1));
    } catch (error) {
      showError(error.message);
    }
  }

  function showStep(step) {
    arithmetic.step = step;
    $("step-slider").value = String(step);
    const last = arithmetic.pictures - 1;
    $("step-label").textContent = step === 0 ? "before the first output" : step === last ? "all outputs computed"
      : `output position ${step} of ${last - 1}`;
    const query = new URLSearchParams(arithmetic.settings);
    query.set("step", String(step));
    $("arithmetic-picture").src = `/api/arithmetic.png?${query}`;
  }

  function setUpArithmetic() {
    $("arithmetic-form").addEventListener("input", updateArithmetic);
    $("arithmetic-form").addEventListener("submit", (event) => event.preventDefault());
    $("step-slider").addEventListener("input", () => showStep(Number($("step-slider").value)));
    $("step-back").addEventListener("click", () => showStep(Math.max(0, arithmetic.step - 1)));
    $("step-next").addEventListener("click", () => showStep(Math.min(arithmetic.pictures - 1, arithmetic.step + 1)));
    $("step-play").addEventListener("click", () => {
      if (arithmetic.timer) {
        clearInterval(arithmetic.timer);
        arithmetic.timer = null;
        $("step-play").textContent = "play";
        return;
      }
      $("step-play").textContent = "pause";
      arithmetic.timer = setInterval(() => showStep((arithmetic.step + 1) % arithmetic.pictures), 900);
    });
  }

  // ---- start ----------------------------------------------------------------------------------------------
  function setUpTabs() {
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => {
        for (const other of document.querySelectorAll(".tab")) other.classList.toggle("active", other === tab);
        for (const page of document.querySelectorAll(".tab-page")) page.hidden = page.id !== tab.dataset.tab;
        if (tab.dataset.tab === "arithmetic-page" && !arithmetic.settings) updateArithmetic();
      });
    }
  }

  async function start() {
    $("error-close").addEventListener("click", hideError);
    setUpTabs();
    setUpArithmetic();
    try {
      state.model = await api("/api/model");
    } catch (error) {
      showError(`the model could not be read: ${error.message}`);
      return;
    }
    const model = state.model;
    state.shape = model.input_shape;
    const [H, W, C] = state.shape;
    state.pixels = new Float32Array(H * W * C);
    $("model-summary").textContent = `${model.name} (${model.source}): input ${by(model.input_shape)}, ` +
      `${model.classes.length} classes, ${thousands(model.totals.params)} parameters, ` +
      `${thousands(model.totals.macs)} multiplies per image`;
    if (!model.white_on_black) {
      $("input-title").textContent = "Draw, or pick a photo";
      $("input-hint").textContent = "Draw in the square (white paint), pick a sample photo or upload an image.";
    } else {
      $("input-hint").textContent = `Hold the mouse button down and draw a digit in the black square ` +
        `(${H}×${W} pixels, white on black, as the network was trained).`;
    }
    for (const name of model.samples) $("samples").append(el("option", {value: name}, name));
    $("samples").addEventListener("change", () => loadSample($("samples").value));
    $("upload").addEventListener("change", () => upload($("upload").files[0]));
    $("clear").addEventListener("click", () => {
      hideError();
      state.pixels.fill(0);
      $("samples").value = "";
      $("notes").replaceChildren(el("li", {}, drawnNote()));
      drawInput();
      refreshAll();
    });
    $("attribution-method").addEventListener("change", showAttribution);
    buildLayers();
    setUpDrawing();
    drawInput();
    $("notes").replaceChildren(el("li", {}, drawnNote()));
    await refreshAll();
    document.body.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", start);
})();
