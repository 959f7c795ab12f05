// DOM helpers. Every string goes in as text (a text node or textContent); nothing the API sends
// is ever parsed as HTML.

let ids = 0;
/** A fresh element id (for label/for and aria-describedby pairs). */
export function uid(prefix = "f") {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * h("tag", {class, id, for, on: {click}, dataset, aria-*, ...}, ...children)
 * Children: nodes, strings (text), numbers, arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "on") {
      for (const [event, fn] of Object.entries(v)) el.addEventListener(event, fn);
    } else if (k === "class") {
      el.className = v;
    } else if (k === "text") {
      el.textContent = String(v);
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else if (k === "value" || k === "checked" || k === "disabled" || k === "selected" || k === "hidden") {
      el[k] = v;
    } else if (k === "for") {
      el.htmlFor = v;
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** A labelled form control: returns {wrap, input}. */
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), control);
  if (hint) {
    const hid = uid("hint");
    control.setAttribute("aria-describedby", hid);
    wrap.append(h("span", { id: hid, class: "muted" }, hint));
  }
  return wrap;
}

export function select(options, value, attrs = {}) {
  const el = h("select", attrs);
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    el.append(h("option", { value: v, selected: String(v) === String(value) }, text));
  }
  return el;
}

export function statusBadge(status) {
  const label = { pass: "Pass", partial: "Partial", fail: "Fail", no_evidence: "No evidence", disabled: "Not applicable" }[status] || status;
  return h("span", { class: `status status-${status}` }, label);
}

export function postureBadge(posture) {
  return h("span", { class: `status posture-${posture}` }, posture);
}

/** Announces a message to screen readers (the page's polite live region). */
export function announce(message) {
  const region = document.getElementById("status");
  if (region) region.textContent = message;
}

export function formatTime(iso) {
  if (!iso) return "—";
  const d = new Date(String(iso).replace(" ", "T") + (/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? "" : "Z"));
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, err && err.message ? err.message : String(err));
}

/** A <table> with a caption, header cells and rows (arrays of cells). */
export function table(caption, headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => (r instanceof Node ? r : h("tr", {}, r.map((c) => h("td", {}, c)))))),
  );
}
