// Audits from policy packs: create one with the category picker; an audit's rules, its runs
// (records uploaded as NDJSON or CSV) and their findings with the policy citations.
import { api, all } from "./api.js";
import { h, clear, field, select, errorBox, formatTime, announce, uid, table } from "./dom.js";

export async function renderAudits() {
  const [audits, packs] = await Promise.all([all("/api/audits", "audits"), api("/api/policy-packs")]);
  const root = h("div", {}, h("h1", {}, "Audits"));
  root.append(
    audits.length === 0
      ? h("p", { class: "muted" }, "No audit yet: create one below. (Audits belong to the credential that created them.)")
      : table(
          "Your audits",
          ["Name", "Pack", "Rules", "Created"],
          audits.map((a) => [h("a", { href: `#/audits/${a.audit_id}` }, a.name), a.policy_type, String(a.rule_count ?? "—"), formatTime(a.created_at)]),
          { id: "audits" },
        ),
  );
  root.append(createForm(packs.packs || []));
  return root;
}

function createForm(packs) {
  const name = h("input", { required: true, id: "audit-name", maxlength: "200" });
  const pack = select(packs.map((p) => [p.policy_type, p.name]), packs[0]?.policy_type, { id: "audit-pack" });
  const cats = h("fieldset", {}, h("legend", {}, "Categories (none ticked: every category)"));
  const out = h("div", { "aria-live": "polite" });
  const drawCats = () => {
    while (cats.children.length > 1) cats.lastChild.remove();
    const p = packs.find((x) => x.policy_type === pack.value);
    for (const c of p?.categories || []) {
      const id = uid("cat");
      cats.append(h("div", {}, h("input", { type: "checkbox", id, value: c.name }), " ", h("label", { for: id }, c.name), " ", h("span", { class: "muted" }, `${c.rule_count} rules`)));
    }
  };
  pack.addEventListener("change", drawCats);
  drawCats();
  const form = h(
    "form",
    {
      class: "card",
      id: "new-audit",
      on: {
        submit: async (e) => {
          e.preventDefault();
          clear(out);
          const selected = [...cats.querySelectorAll("input:checked")].map((b) => b.value);
          const body = { name: name.value.trim(), policy_type: pack.value };
          if (selected.length) body.selected_categories = selected;
          try {
            const a = await api("/api/audits", { method: "POST", body });
            announce("Audit created");
            window.location.hash = `#/audits/${a.audit_id}`;
          } catch (err) {
            out.append(errorBox(err));
          }
        },
      },
    },
    h("h2", {}, "New audit"),
    field("Name", name),
    field("Policy pack", pack),
    cats,
    h("button", { type: "submit" }, "Create audit"),
    out,
  );
  return form;
}

export async function renderAudit(auditId) {
  const [audit, runs] = await Promise.all([api(`/api/audits/${auditId}`), all(`/api/audits/${auditId}/runs`, "runs")]);
  const findings = h("div", { id: "findings" });
  const root = h(
    "div",
    {},
    h("p", {}, h("a", { href: "#/audits" }, "← Audits")),
    h("h1", {}, audit.name),
    h("p", { class: "muted" }, `${audit.policy_type} pack · ${audit.rule_count} rules · created ${formatTime(audit.created_at)}`),
    h("p", {}, h("a", { href: `#/audits/${auditId}/alerts`, id: "alerts-link" }, "Alerts: work what the runs found")),
    h("h2", {}, "Rules"),
    table(
      "The audit's rules",
      ["Rule", "Category", "Severity", "Threshold", "Active", "Policy"],
      audit.rules.map((r) => [h("span", {}, h("code", {}, r.rule_id), " ", r.name), r.category, r.severity, r.threshold === null || r.threshold === undefined ? "—" : String(r.threshold), r.is_active === false ? "no" : "yes", r.policy_section || ""]),
    ),
    h("h2", {}, "Runs"),
    runs.length === 0
      ? h("p", { class: "muted" }, "No run yet.")
      : table(
          "Runs, newest first",
          ["Started", "Records", "Findings", "Failing rules", ""],
          runs.map((r) => [
            formatTime(r.started_at),
            String(r.records),
            String(r.findings_total),
            r.rules.filter((x) => x.status === "fail").map((x) => x.rule_id).join(", ") || "none",
            h("button", { type: "button", class: "secondary", "aria-label": `Findings of the run started ${formatTime(r.started_at)}`, on: { click: () => showFindings(auditId, r, findings) } }, "Findings"),
          ]),
        ),
    findings,
    runForm(auditId),
  );
  return root;
}

async function showFindings(auditId, run, out) {
  clear(out).append(h("p", { class: "muted" }, "Loading…"));
  try {
    const data = await api(`/api/audits/${auditId}/runs/${run.run_id}/findings`, { query: { limit: 100 } });
    clear(out).append(h("h2", { tabindex: "-1" }, `Findings of the run started ${formatTime(run.started_at)}`));
    if (data.findings.length === 0) out.append(h("p", {}, "No finding."));
    for (const f of data.findings) {
      out.append(
        h(
          "article",
          { class: "card" },
          h("h3", {}, `${f.severity.toUpperCase()} · ${f.rule_id}`),
          h("p", {}, f.message),
          h("p", { class: "muted" }, `Records: ${(f.record_ids || []).join(", ")}${f.window ? ` · window ${formatTime(f.window.from)} – ${formatTime(f.window.to)}` : ""}`),
          h("blockquote", {}, h("p", {}, f.policy_excerpt || ""), h("footer", {}, h("cite", {}, f.policy_section || ""))),
        ),
      );
    }
    if (data.findings_total > data.findings.length) out.append(h("p", { class: "muted" }, `${data.findings.length} of ${data.findings_total} shown.`));
    out.querySelector("h2").focus();
  } catch (err) {
    clear(out).append(errorBox(err));
  }
}

function runForm(auditId) {
  const format = select([["application/x-ndjson", "NDJSON (one JSON record a line)"], ["text/csv", "CSV (a header row)"]], "application/x-ndjson", { id: "run-format" });
  const file = h("input", { type: "file", id: "run-file", accept: ".ndjson,.jsonl,.csv,.txt" });
  const text = h("textarea", { id: "run-records", spellcheck: "false" });
  const out = h("div", { "aria-live": "polite" });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    text.value = await f.text();
    if (/\.csv$/i.test(f.name)) format.value = "text/csv";
  });
  return h(
    "form",
    {
      class: "card",
      on: {
        submit: async (e) => {
          e.preventDefault();
          clear(out);
          try {
            const run = await api(`/api/audits/${auditId}/runs`, { method: "POST", body: text.value, contentType: format.value });
            announce(`Run finished: ${run.findings_total} findings`);
            window.dispatchEvent(new HashChangeEvent("hashchange"));
          } catch (err) {
            out.append(errorBox(err));
          }
        },
      },
    },
    h("h2", {}, "New run"),
    field("Format", format),
    field("Records file", file),
    field("Records", text, "Or paste them here."),
    h("button", { type: "submit" }, "Run the audit"),
    out,
  );
}
