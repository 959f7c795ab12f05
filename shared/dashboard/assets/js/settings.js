// Settings: the enabled frameworks (plan-locked ones with the 402's upgrade prompt), controls
// marked Not Applicable, custom frameworks (errors shown at the field they name), API keys,
// webhooks (js/webhooks.js).
import { api, all } from "./api.js";
import { h, clear, field, select, errorBox, announce, uid, formatTime, table } from "./dom.js";
import { webhooksSection } from "./webhooks.js";

const CHECK_TYPES = ["secrets", "sast_security", "sast_crypto", "sast_auth", "scan_recency", "quality_gates", "pr_reviews", "sca_vulns", "code_quality", "iac_issues"];

export async function renderSettings() {
  const frameworks = await api("/api/compliance/frameworks");
  const root = h("div", {}, h("h1", {}, "Settings"));
  root.append(frameworksSection(frameworks), controlsSection(frameworks), customSection(), keysSection(), webhooksSection());
  return root;
}

function upgradePrompt(body) {
  const d = (body && body.detail) || {};
  return h(
    "div",
    { class: "notice upgrade", role: "alert", dataset: { framework: d.framework_key || "" } },
    h("strong", {}, d.message || "A higher plan is required."),
    d.required_plan ? h("p", {}, `Your org is on the ${d.current_plan} plan; ${d.framework_key} needs the ${d.required_plan} plan. Ask your account owner to upgrade the plan to enable it.`) : null,
  );
}

function frameworksSection(frameworks) {
  const enabled = new Set((frameworks.available || []).filter((f) => f.enabled).map((f) => f.key));
  const out = h("div", { "aria-live": "polite" });
  const boxes = (frameworks.available || []).map((f) => {
    const id = uid("fw");
    const box = h("input", { type: "checkbox", id, value: f.key, checked: enabled.has(f.key), dataset: { framework: f.key } });
    return h(
      "div",
      {},
      box,
      " ",
      h("label", { for: id }, f.name),
      " ",
      h("span", { class: "muted" }, `${f.control_count} controls${f.custom ? ", custom" : ""}${f.plan_locked ? `, needs the ${f.requires_plan} plan` : ""}`),
    );
  });
  const form = h(
    "form",
    {
      id: "frameworks-form",
      on: {
        submit: async (e) => {
          e.preventDefault();
          clear(out);
          const keys = [...form.querySelectorAll("input[type=checkbox]:checked")].map((b) => b.value);
          try {
            await api("/api/compliance/frameworks/enabled", { method: "PUT", body: { keys } });
            out.append(h("p", {}, "Saved."));
            announce("Framework selection saved");
          } catch (err) {
            out.append(err.status === 402 ? upgradePrompt(err.body) : errorBox(err));
          }
        },
      },
    },
    h("fieldset", {}, h("legend", {}, "Enabled frameworks"), boxes),
    h("button", { type: "submit" }, "Save frameworks"),
    out,
  );
  return h("section", { class: "card", "aria-labelledby": "s-fw" }, h("h2", { id: "s-fw" }, "Frameworks"), form);
}

let justificationsSupported;
/** Whether this server keeps a justification per control (its OpenAPI document says so). */
async function keepsJustifications() {
  if (justificationsSupported === undefined) {
    try {
      const doc = await api("/api/openapi.json");
      justificationsSupported = Boolean(doc?.components?.schemas?.SetDisabledControlsRequest?.properties?.justifications);
    } catch {
      justificationsSupported = false;
    }
  }
  return justificationsSupported;
}

function controlsSection(frameworks) {
  const choices = (frameworks.available || []).filter((f) => !f.plan_locked).map((f) => [f.key, f.name]);
  const fw = select(choices, choices[0] ? choices[0][0] : "", { id: "na-framework" });
  const list = h("div", {});
  const load = async () => {
    clear(list).append(h("p", { class: "muted" }, "Loading…"));
    try {
      const data = await api(`/api/compliance/frameworks/${encodeURIComponent(fw.value)}/controls`);
      const out = h("div", { "aria-live": "polite" });
      const justified = await keepsJustifications();
      const rows = data.controls.map((c) => {
        const id = uid("na");
        const why = justified
          ? h("input", { type: "text", maxlength: "1000", value: c.justification || "", dataset: { control: c.id }, "aria-label": `Justification for ${c.id}` })
          : null;
        return h(
          "tr",
          { dataset: { control: c.id } },
          h("td", {}, h("input", { type: "checkbox", id, value: c.id, checked: c.disabled })),
          h("td", {}, h("label", { for: id }, h("code", {}, c.id), " ", c.name)),
          h("td", {}, c.category || ""),
          h("td", {}, c.check_type),
          justified ? h("td", {}, why) : null,
        );
      });
      const form = h(
        "form",
        {
          on: {
            submit: async (e) => {
              e.preventDefault();
              clear(out);
              const disabled = [...form.querySelectorAll("input[type=checkbox]:checked")].map((b) => b.value);
              const body = { disabled };
              if (justified) {
                body.justifications = {};
                for (const input of form.querySelectorAll("input[type=text][data-control]")) {
                  if (input.value.trim()) body.justifications[input.dataset.control] = input.value.trim();
                }
              }
              try {
                await api(`/api/compliance/frameworks/${encodeURIComponent(fw.value)}/controls`, { method: "PUT", body });
                out.append(h("p", {}, `Saved: ${disabled.length} control${disabled.length === 1 ? "" : "s"} not applicable.`));
              } catch (err) {
                out.append(errorBox(err));
              }
            },
          },
        },
        table(
          `${data.framework_name}: tick the controls that do not apply${justified ? ", and say why" : ""}`,
          ["Not applicable", "Control", "Category", "Check", ...(justified ? ["Justification"] : [])],
          rows,
          { id: "na-controls" },
        ),
        h("p", { class: "muted" }, justified ? "Justifications appear in the Statement of Applicability (Exports)." : "This server keeps no justification: record it in your Statement of Applicability."),
        h("button", { type: "submit" }, "Save controls"),
        out,
      );
      clear(list).append(form);
    } catch (err) {
      clear(list).append(errorBox(err));
    }
  };
  fw.addEventListener("change", load);
  queueMicrotask(load);
  return h("section", { class: "card", "aria-labelledby": "s-na" }, h("h2", { id: "s-na" }, "Controls marked Not Applicable"), field("Framework", fw), list);
}

// ---- custom frameworks ----

function controlRow(c = {}) {
  const cells = {
    id: h("input", { value: c.id || "", required: true, size: 12, dataset: { name: "id" } }),
    name: h("input", { value: c.name || "", required: true, dataset: { name: "name" } }),
    category: h("input", { value: c.category || "", size: 12, dataset: { name: "category" } }),
    check_type: select(CHECK_TYPES, c.check_type || "sast_security", { dataset: { name: "check_type" } }),
    pass_condition: h("input", { value: c.pass_condition || "", size: 16, placeholder: "default", dataset: { name: "pass_condition" } }),
    cwe: h("input", { value: (c.cwe || []).join(", "), size: 10, placeholder: "e.g. 79, 89", dataset: { name: "cwe" } }),
  };
  const labels = { id: "Control id", name: "Name", category: "Category", check_type: "Check type", pass_condition: "Pass condition", cwe: "CWE ids" };
  const tr = h("tr", { class: "control-row" });
  for (const [k, el] of Object.entries(cells)) {
    el.id = uid("cc");
    tr.append(h("td", {}, h("label", { for: el.id, class: "visually-hidden" }, labels[k]), el));
  }
  tr.append(h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": "Remove this control", on: { click: () => tr.remove() } }, "Remove")));
  return tr;
}

function customForm(existing, onSaved) {
  const key = h("input", { value: existing?.key || "", required: true, readonly: existing ? true : null, dataset: { path: "key" } });
  const name = h("input", { value: existing?.name || "", required: true, dataset: { path: "name" } });
  const description = h("input", { value: existing?.description || "", dataset: { path: "description" } });
  const body = h("tbody", {});
  for (const c of existing?.controls || [{}]) body.append(controlRow(c));
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "custom-form", novalidate: true });
  const clearErrors = () => {
    for (const el of form.querySelectorAll(".field-error")) el.remove();
    for (const el of form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-errormessage");
    }
  };
  const showAt = (path, message) => {
    let el = null;
    if (path[0] === "controls" && typeof path[1] === "number") {
      const row = body.querySelectorAll("tr.control-row")[path[1]];
      el = row && (path[2] ? row.querySelector(`[data-name="${CSS.escape(String(path[2]))}"]`) : row.querySelector("input"));
    } else if (path.length) {
      el = form.querySelector(`[data-path="${CSS.escape(String(path[0]))}"]`);
    }
    const msg = h("span", { class: "field-error error", id: uid("err") }, message);
    if (el) {
      el.setAttribute("aria-invalid", "true");
      el.setAttribute("aria-errormessage", msg.id);
      el.insertAdjacentElement("afterend", msg);
    } else {
      out.append(msg);
    }
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(out);
    clearErrors();
    const controls = [...body.querySelectorAll("tr.control-row")].map((tr) => {
      const v = (n) => tr.querySelector(`[data-name="${n}"]`).value.trim();
      const c = { id: v("id"), name: v("name"), check_type: v("check_type") };
      if (v("category")) c.category = v("category");
      if (v("pass_condition")) c.pass_condition = v("pass_condition");
      if (v("cwe")) c.cwe = v("cwe").split(/[\s,]+/).filter(Boolean).map((x) => (/^\d+$/.test(x.replace(/^cwe-/i, "")) ? Number(x.replace(/^cwe-/i, "")) : x));
      return c;
    });
    const payload = { key: key.value.trim(), name: name.value.trim(), controls };
    if (description.value.trim()) payload.description = description.value.trim();
    try {
      const saved = await api("/api/compliance/custom-frameworks", { method: "POST", body: payload });
      out.append(h("p", {}, `${saved.message}: ${saved.name}`));
      announce("Custom framework saved");
      onSaved();
    } catch (err) {
      const errors = err.body && Array.isArray(err.body.errors) ? err.body.errors : [];
      if (errors.length) {
        for (const x of errors) showAt(x.path || [], x.message);
        out.append(h("p", { class: "error", role: "alert" }, `${errors.length} problem${errors.length === 1 ? "" : "s"}: see the fields marked.`));
        const first = form.querySelector("[aria-invalid]");
        if (first) first.focus();
      } else {
        out.append(errorBox(err));
      }
    }
  });
  const headers = ["Control id", "Name", "Category", "Check type", "Pass condition", "CWE ids", ""];
  append(form, [
    h("div", { class: "row" }, field("Key", key, "lowercase letters, digits, _"), field("Name", name), field("Description", description)),
    h("table", {}, h("caption", {}, "Controls"), h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))), body),
    h("p", {}, h("button", { type: "button", class: "secondary", on: { click: () => body.append(controlRow()) } }, "Add a control")),
    h("button", { type: "submit" }, existing ? "Save changes" : "Create framework"),
    out,
  ]);
  return form;
}

function append(el, items) {
  for (const i of items) el.append(i);
}

function customSection() {
  const list = h("div", {});
  const editor = h("div", {});
  const load = async () => {
    clear(list);
    try {
      const fws = await all("/api/compliance/custom-frameworks", "frameworks", {}, 500, null);
      if (fws.length === 0) list.append(h("p", { class: "muted" }, "No custom framework yet."));
      else
        list.append(
          table(
            "Custom frameworks",
            ["Name", "Key", "Controls", "Updated", ""],
            fws.map((f) => [
              f.name,
              h("code", {}, f.key),
              String(f.controls.length),
              formatTime(f.updated_at),
              h(
                "span",
                { class: "inline-form" },
                h("button", { type: "button", class: "secondary", "aria-label": `Edit ${f.name}`, on: { click: () => clear(editor).append(h("h3", {}, `Edit ${f.name}`), customForm(f, load)) } }, "Edit"),
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "aria-label": `Delete ${f.name}`,
                    on: {
                      click: async () => {
                        if (!window.confirm(`Delete the custom framework ${f.name}?`)) return;
                        try {
                          await api(`/api/compliance/custom-frameworks/${encodeURIComponent(f.key)}`, { method: "DELETE" });
                          load();
                        } catch (err) {
                          list.append(errorBox(err));
                        }
                      },
                    },
                  },
                  "Delete",
                ),
              ),
            ]),
            { id: "custom-frameworks" },
          ),
        );
    } catch (err) {
      list.append(errorBox(err));
    }
  };
  queueMicrotask(load);
  const newButton = h("button", { type: "button", class: "secondary", on: { click: () => clear(editor).append(h("h3", {}, "New custom framework"), customForm(null, load)) } }, "New custom framework");
  return h("section", { class: "card", "aria-labelledby": "s-cf" }, h("h2", { id: "s-cf" }, "Custom frameworks"), list, newButton, editor);
}

// ---- API keys ----

function keysSection() {
  const list = h("div", {});
  const created = h("div", { "aria-live": "polite" });
  const load = async () => {
    clear(list);
    try {
      const keys = await all("/api/api-keys", "api_keys");
      list.append(
        table(
          "API keys",
          ["Name", "Role", "Prefix", "Created", "Status", ""],
          keys.map((k) => [
            k.name,
            k.role,
            h("code", {}, k.prefix),
            formatTime(k.created_at),
            k.revoked_at ? `revoked ${formatTime(k.revoked_at)}` : "active",
            k.revoked_at
              ? ""
              : h(
                  "button",
                  {
                    type: "button",
                    class: "danger",
                    "aria-label": `Revoke ${k.name}`,
                    on: {
                      click: async () => {
                        if (!window.confirm(`Revoke the key ${k.name}? Clients using it stop working at once.`)) return;
                        try {
                          await api(`/api/api-keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
                          announce(`${k.name} revoked`);
                          load();
                        } catch (err) {
                          list.append(errorBox(err));
                        }
                      },
                    },
                  },
                  "Revoke",
                ),
          ]),
          { id: "api-keys" },
        ),
      );
    } catch (err) {
      list.append(errorBox(err));
    }
  };
  const name = h("input", { required: true, id: "new-key-name", maxlength: "100" });
  const role = select(["viewer", "member", "admin", "owner"], "member", { id: "new-key-role" });
  const form = h(
    "form",
    {
      id: "new-key",
      on: {
        submit: async (e) => {
          e.preventDefault();
          clear(created);
          try {
            const k = await api("/api/api-keys", { method: "POST", body: { name: name.value.trim(), role: role.value } });
            created.append(
              h(
                "div",
                { class: "notice", role: "alert" },
                h("p", {}, h("strong", {}, `Key ${k.name} created. Copy it now: it is shown only this once.`)),
                h("code", { class: "secret", id: "new-key-secret" }, k.key),
              ),
            );
            name.value = "";
            load();
          } catch (err) {
            created.append(errorBox(err));
          }
        },
      },
    },
    h("div", { class: "row" }, field("Key name", name), field("Role", role), h("button", { type: "submit" }, "Create key")),
  );
  queueMicrotask(load);
  return h("section", { class: "card", "aria-labelledby": "s-keys" }, h("h2", { id: "s-keys" }, "API keys"), list, h("h3", {}, "New key"), form, created);
}
