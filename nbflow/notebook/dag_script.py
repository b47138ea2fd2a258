"""The small script that makes an inline DAG zoomable, pannable and searchable.

Self-contained (no library, no network), written for any page that runs an output's
``<script>``: JupyterLab and Notebook 7 (trusted outputs), VS Code, and a notebook exported
to HTML. It finds its DAG from ``document.currentScript`` (else by id) and runs once per
DAG. Zoom and pan change the SVG's ``viewBox``; the element keeps the output's width.

- ``+`` / ``-`` / ``Fit`` buttons; Ctrl (or ⌘) + wheel zooms at the pointer, and so does
  the plain wheel once the drawing was clicked (until the pointer leaves it);
- drag to pan (once zoomed in);
- hover a step, edge or nested graph: its tooltip (the SVG ``<title>`` or Graphviz's
  ``xlink:title``) shows in a small box at once;
- the search box highlights the steps whose name contains the text and dims the rest;
  Enter zooms to the next one.
"""

from __future__ import annotations

SCRIPT = r"""
(function () {
  var UID = "__UID__";
  var here = document.currentScript;
  var root = here && here.parentNode && here.parentNode.id === UID ? here.parentNode
    : document.getElementById(UID);
  if (!root || root.getAttribute("data-ready")) { return; }
  var svg = root.querySelector(".nbflow-dag-canvas svg");
  if (!svg || !svg.getAttribute("viewBox")) { return; }
  root.setAttribute("data-ready", "1");
  root.classList.add("nbflow-dag-live");
  var XLINK = "http://www.w3.org/1999/xlink";
  var base = svg.getAttribute("viewBox").trim().split(/[\s,]+/).map(Number);
  var view = base.slice();
  var MAX = 40;
  var tip = root.querySelector(".nbflow-dag-tip");
  var found = root.querySelector(".nbflow-dag-found");
  function show() {
    svg.setAttribute("viewBox", view.map(function (v) { return v.toFixed(2); }).join(" "));
    root.setAttribute("data-zoom", (base[2] / view[2]).toFixed(2));
  }
  function clamp() {
    view[0] = Math.min(Math.max(view[0], base[0]), base[0] + base[2] - view[2]);
    view[1] = Math.min(Math.max(view[1], base[1]), base[1] + base[3] - view[3]);
  }
  function zoom(factor, px, py) {
    var scale = Math.min(MAX, Math.max(1, base[2] / view[2] * factor));
    var w = base[2] / scale, h = base[3] / scale;
    var cx = view[0] + view[2] * px, cy = view[1] + view[3] * py;
    view = [cx - w * px, cy - h * py, w, h];
    clamp(); show();
  }
  function reset() { view = base.slice(); show(); }
  function toView(rect) {
    var box = svg.getBoundingClientRect();
    return [view[0] + (rect.left - box.left) / box.width * view[2],
            view[1] + (rect.top - box.top) / box.height * view[3],
            rect.width / box.width * view[2], rect.height / box.height * view[3]];
  }
  function focusOn(el) {
    var r = toView(el.getBoundingClientRect());
    var scale = Math.min(MAX, Math.max(base[2] / view[2], 2, base[2] / (r[2] * 8)));
    var w = base[2] / scale, h = base[3] / scale;
    view = [r[0] + r[2] / 2 - w / 2, r[1] + r[3] / 2 - h / 2, w, h];
    clamp(); show();
  }
  root.querySelector(".nbflow-dag-toolbar").addEventListener("click", function (e) {
    var button = e.target.closest("button");
    if (!button) { return; }
    var act = button.getAttribute("data-act");
    if (act === "in") { zoom(1.5, 0.5, 0.5); }
    else if (act === "out") { zoom(1 / 1.5, 0.5, 0.5); }
    else if (act === "fit") { reset(); }
  });
  svg.addEventListener("wheel", function (e) {
    if (!(e.ctrlKey || e.metaKey || root.classList.contains("nbflow-dag-active"))) { return; }
    e.preventDefault();
    var box = svg.getBoundingClientRect();
    zoom(Math.exp(-e.deltaY / 300), (e.clientX - box.left) / box.width,
         (e.clientY - box.top) / box.height);
  }, {passive: false});
  var drag = null;
  svg.addEventListener("pointerdown", function (e) {
    if (e.button !== 0) { return; }
    root.classList.add("nbflow-dag-active");
    drag = {x: e.clientX, y: e.clientY, view: view.slice()};
    root.classList.add("nbflow-dag-dragging");
  });
  function tipText(el) {
    var link = el.querySelector("a");
    var text = link && (link.getAttributeNS(XLINK, "title") || link.getAttribute("xlink:title"));
    if (!text) {
      var title = el.querySelector("title");
      text = title ? title.textContent : "";
    }
    return text;
  }
  function hover(e) {
    var el = e.target.closest && e.target.closest("g.node, g.edge, g.cluster");
    if (!el || !root.contains(el)) { tip.hidden = true; return; }
    var text = tipText(el);
    if (!text) { tip.hidden = true; return; }
    var box = root.getBoundingClientRect();
    tip.textContent = text;
    tip.hidden = false;
    var left = e.clientX - box.left + 14;
    tip.style.left = Math.max(0, Math.min(left, box.width - tip.offsetWidth - 4)) + "px";
    tip.style.top = (e.clientY - box.top + 16) + "px";
    root.setAttribute("data-hovered", el.getAttribute("id") || "");
  }
  svg.addEventListener("pointermove", function (e) {
    if (!drag) { hover(e); return; }
    var box = svg.getBoundingClientRect();
    view[0] = drag.view[0] - (e.clientX - drag.x) * view[2] / box.width;
    view[1] = drag.view[1] - (e.clientY - drag.y) * view[3] / box.height;
    clamp(); show();
    tip.hidden = true;
  });
  function drop() { drag = null; root.classList.remove("nbflow-dag-dragging"); }
  window.addEventListener("pointerup", drop);
  svg.addEventListener("pointerleave", function () { tip.hidden = true; });
  root.addEventListener("pointerleave", function () {
    drop(); root.classList.remove("nbflow-dag-active");
  });
  var search = root.querySelector(".nbflow-dag-search");
  var hits = [], next = 0;
  function nameOf(node) {
    var title = node.querySelector("title");
    var label = Array.prototype.map.call(node.querySelectorAll("text"),
      function (t) { return t.textContent; }).join(" ");
    return ((title ? title.textContent.split("\n")[0] : "") + " " + label).toLowerCase();
  }
  search.addEventListener("input", function () {
    var text = search.value.trim().toLowerCase();
    hits = []; next = 0;
    svg.querySelectorAll("g.node").forEach(function (node) {
      var hit = text !== "" && nameOf(node).indexOf(text) >= 0;
      node.classList.toggle("nbflow-dag-hit", hit);
      node.classList.toggle("nbflow-dag-dim", text !== "" && !hit);
      if (hit) { hits.push(node); }
    });
    svg.querySelectorAll("g.edge").forEach(function (edge) {
      edge.classList.toggle("nbflow-dag-dim", text !== "");
    });
    found.textContent = text === "" ? "" : hits.length + (hits.length === 1 ? " step" : " steps");
  });
  search.addEventListener("keydown", function (e) {
    e.stopPropagation();  // the notebook's shortcuts ("a", "b", "dd"...) stay out of the box
    if (e.key === "Enter" && hits.length) {
      e.preventDefault();
      focusOn(hits[next % hits.length]);
      next += 1;
    } else if (e.key === "Escape") {
      search.value = ""; search.dispatchEvent(new Event("input")); reset();
    }
  });
  show();
})();
"""


def dag_script(uid: str) -> str:
    """The script for the DAG whose root element has id ``uid``."""
    return SCRIPT.replace("__UID__", uid)
