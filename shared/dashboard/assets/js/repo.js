// Repository: per-framework scores, the controls table (filter by status, search), risk areas,
// the recommendation, and the trend chart (framework and days selectors).
import { api } from "./api.js";
import { h, clear, field, select, statusBadge, postureBadge, formatTime, errorBox, announce, table } from "./dom.js";
import { trendChart, trendLegend } from "./charts.js";

const STATUSES = [["", "Every status"], ["pass", "Pass"], ["partial", "Partial"], ["fail", "Fail"], ["no_evidence", "No evidence"], ["disabled", "Not applicable"]];

const ATTESTATION_TEXT = { current: "current", due_soon: "due soon", overdue: "overdue" };

/** What people added to the scanners' evidence: findings set aside by exceptions, an attestation. */
function humanEvidence(evidence) {
  const parts = [];
  if (evidence?.excepted) {
    const until = evidence.exceptions_expire_at ? `, first counts again ${formatTime(evidence.exceptions_expire_at)}` : "";
    parts.push(h("div", { dataset: { field: "excepted" } }, h("a", { href: "#/exceptions" }, `${evidence.excepted} finding${evidence.excepted === 1 ? "" : "s"} excepted`), until));
  }
  const a = evidence?.attestation;
  if (a) {
    const how = a.by_attestation ? "passes by attestation" : a.state === "overdue" ? "counts for nothing until renewed" : "scan evidence decides";
    parts.push(h("div", { dataset: { field: "attestation" } }, h("span", { class: `status attestation-${a.state}` }, `attested, ${ATTESTATION_TEXT[a.state] || a.state}`), ` due ${formatTime(a.due_at)}; ${how}`));
  }
  return parts.length ? parts : "—";
}

function evidenceText(evidence) {
  if (!evidence) return "—";
  const parts = [];
  if (evidence.counts) {
    const c = evidence.counts;
    const n = Object.values(c).reduce((a, b) => a + (Number(b) || 0), 0);
    parts.push(`${n} finding${n === 1 ? "" : "s"}` + (n ? ` (${Object.entries(c).filter(([, v]) => v).map(([k, v]) => `${v} ${k}`).join(", ")})` : ""));
  }
  if (evidence.scan_age_days !== undefined) parts.push(`scan ${evidence.scan_age_days} days old`);
  if (evidence.covered === false) parts.push("not covered by the latest scan");
  for (const [k, v] of Object.entries(evidence)) {
    if (["counts", "scan_age_days", "scan_age_hours", "covered", "excepted", "exceptions_expire_at", "attestation"].includes(k)) continue;
    const value = v && typeof v === "object" ? Object.entries(v).map(([a, b]) => `${a.replaceAll("_", " ")} ${b}`).join(", ") : v;
    parts.push(`${k.replaceAll("_", " ")}: ${value}`);
  }
  return parts.join("; ") || "—";
}

export async function renderRepo(repoId) {
  const [repo, score] = await Promise.all([api(`/api/repos/${repoId}`), api(`/api/compliance/score/${repoId}`)]);
  const s = score.executive_summary;
  const frameworks = Object.values(score.frameworks || {});
  const root = h("div", {});
  root.append(
    h("p", {}, h("a", { href: "#/" }, "← Overview")),
    h("h1", {}, repo.name),
    h(
      "div",
      { class: "grid" },
      h("div", { class: "card" }, h("div", { class: "muted" }, "Overall score"), h("div", { class: "score", id: "overall-score" }, String(s.overall_score)), postureBadge(s.posture)),
      h("div", { class: "card" }, h("div", { class: "muted" }, "Controls"), h("div", {}, `${s.passing} passing, ${s.partial} partial, ${s.failing} failing of ${s.total_controls}`), h("div", { class: "muted" }, `${s.no_evidence} without evidence`)),
      h("div", { class: "card" }, h("div", { class: "muted" }, "Latest scan"), h("div", {}, score.last_scan ? formatTime(score.last_scan) : "never"), h("div", { class: "muted" }, `${score.total_issues ?? 0} issues`)),
      s.exceptions
        ? h(
            "div",
            { class: "card", id: "excepted" },
            h("div", { class: "muted" }, "Excepted findings"),
            h("div", {}, `${s.exceptions.excepted_findings} set aside by approved exceptions`),
            h("div", { class: "muted" }, s.exceptions.soonest_expiry ? `first counts again ${formatTime(s.exceptions.soonest_expiry)}` : "no expiry"),
          )
        : null,
    ),
    h("h2", {}, "Recommendation"),
    h("p", { class: "card", id: "recommendation" }, s.recommendation || "—"),
    h("h2", {}, "Frameworks"),
    table(
      "Score per framework",
      ["Framework", "Score", "Pass", "Partial", "Fail", "No evidence", "Not applicable"],
      frameworks.map((f) =>
        h(
          "tr",
          { dataset: { framework: f.key } },
          h("th", { scope: "row" }, f.name),
          h("td", { class: "num", dataset: { field: "score" } }, f.score === null ? "—" : String(f.score)),
          h("td", { class: "num" }, String(f.pass)),
          h("td", { class: "num" }, String(f.partial)),
          h("td", { class: "num" }, String(f.fail)),
          h("td", { class: "num" }, String(f.no_evidence)),
          h("td", { class: "num" }, String(f.disabled)),
        ),
      ),
      { id: "framework-scores" },
    ),
    h("h2", {}, "Risk areas"),
    (s.risk_areas || []).length === 0
      ? h("p", {}, "No failing control.")
      : h("ol", { id: "risk-areas" }, s.risk_areas.map((r) => h("li", {}, h("strong", {}, `${r.framework} ${r.control_id} ${r.name}`), " — ", statusBadge(r.status), " ", r.reason))),
  );
  root.append(trendSection(repoId, frameworks));
  root.append(controlsSection(repoId, frameworks));
  return root;
}

function trendSection(repoId, frameworks) {
  const fw = select([["", "Overall"], ...frameworks.map((f) => [f.key, f.name])], "", { id: "trend-framework" });
  const days = select([["7", "7 days"], ["30", "30 days"], ["90", "90 days"], ["365", "365 days"]], "30", { id: "trend-days" });
  const out = h("div", { id: "trend" });
  const section = h(
    "section",
    { "aria-labelledby": "trend-title" },
    h("h2", { id: "trend-title" }, "Trend"),
    h("div", { class: "row" }, field("Framework", fw), field("Period", days)),
    trendLegend(),
    out,
  );
  const load = async () => {
    clear(out).append(h("p", { class: "muted" }, "Loading…"));
    try {
      const t = await api(`/api/compliance/trend/${repoId}`, { query: { framework: fw.value, days: days.value } });
      clear(out);
      if (t.points.length === 0) {
        out.append(h("p", {}, "No trend point in this period yet."));
        return;
      }
      out.append(trendChart(t.points, { framework: fw.value, width: Math.min(1100, (section.parentElement?.clientWidth || 900) - 20) }));
      const rows = [...t.points].sort((a, b) => new Date(a.at) - new Date(b.at)).map((p) => [formatTime(p.at), p.source === "scan" ? "scan" : "daily snapshot", String(fw.value ? p.score ?? "—" : p.overall_score), p.posture || "—"]);
      out.append(h("details", {}, h("summary", {}, "The points as a table"), table("Trend points", ["When", "Source", "Score", "Posture"], rows)));
      announce(`Trend: ${t.points.length} points`);
    } catch (err) {
      clear(out).append(errorBox(err));
    }
  };
  fw.addEventListener("change", load);
  days.addEventListener("change", load);
  queueMicrotask(load);
  return section;
}

function controlsSection(repoId, frameworks) {
  const status = select(STATUSES, "", { id: "control-status" });
  const fwFilter = select([["", "Every framework"], ...frameworks.map((f) => [f.key, f.name])], "", { id: "control-framework" });
  const search = h("input", { type: "search", id: "control-search", placeholder: "id, name, reason…" });
  const problem = h("div", { "aria-live": "assertive" });
  const count = h("p", { class: "muted", "aria-live": "polite" });
  const body = h("tbody", {});
  const rows = [];
  for (const f of frameworks) {
    const disabled = new Set(f.controls.filter((c) => c.status === "disabled").map((c) => c.id));
    for (const c of f.controls) {
      const isNa = c.status === "disabled";
      const toggle = h("button", {
        type: "button",
        class: "secondary",
        dataset: { control: c.id, framework: f.key },
        "aria-label": `${isNa ? "Restore" : "Mark not applicable"}: ${f.name} ${c.id}`,
        on: {
          click: async () => {
            const next = new Set(disabled);
            if (isNa) next.delete(c.id);
            else next.add(c.id);
            toggle.disabled = true;
            try {
              await api(`/api/compliance/frameworks/${encodeURIComponent(f.key)}/controls`, { method: "PUT", body: { disabled: [...next] } });
              announce(`${c.id} ${isNa ? "restored" : "marked not applicable"}; scores updated`);
              window.dispatchEvent(new HashChangeEvent("hashchange"));
            } catch (err) {
              toggle.disabled = false;
              clear(problem).append(errorBox(err));
            }
          },
        },
      }, isNa ? "Restore" : "Mark N/A");
      const tr = h(
        "tr",
        { dataset: { framework: f.key, control: c.id, status: c.status } },
        h("td", {}, f.name),
        h("th", { scope: "row" }, h("code", {}, c.id), " ", c.name),
        h("td", {}, statusBadge(c.status)),
        h("td", {}, evidenceText(c.evidence)),
        h("td", {}, humanEvidence(c.evidence)),
        h("td", {}, c.reason || ""),
        h("td", {}, toggle),
      );
      rows.push({ tr, f: f.key, c, haystack: `${f.key} ${f.name} ${c.id} ${c.name} ${c.category || ""} ${c.reason || ""}`.toLowerCase() });
    }
  }
  const apply = () => {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    clear(body);
    for (const r of rows) {
      if (status.value && r.c.status !== status.value) continue;
      if (fwFilter.value && r.f !== fwFilter.value) continue;
      if (q && !r.haystack.includes(q)) continue;
      body.append(r.tr);
      shown += 1;
    }
    count.textContent = `${shown} of ${rows.length} controls shown`;
  };
  status.addEventListener("change", apply);
  fwFilter.addEventListener("change", apply);
  search.addEventListener("input", apply);
  apply();
  return h(
    "section",
    { "aria-labelledby": "controls-title" },
    h("h2", { id: "controls-title" }, "Controls"),
    h("div", { class: "row" }, field("Status", status), field("Framework", fwFilter), field("Search", search)),
    count,
    problem,
    h(
      "table",
      { id: "controls" },
      h("caption", {}, "Controls, their status, the evidence they were judged on and why"),
      h("thead", {}, h("tr", {}, ["Framework", "Control", "Status", "Evidence", "Exceptions and attestation", "Reason", "Not applicable"].map((t) => h("th", { scope: "col" }, t)))),
      body,
    ),
  );
}
