// An audit's alert queue (filters, the queue as CSV) and one alert's case view: its
// occurrences, its trail, and the steps the caller may take. The API says whether the caller may
// decide a recommendation (never the investigator who made it), and only then is the decision
// form shown.
import { api } from "./api.js";
import { h, clear, field, select, errorBox, formatTime, announce, table } from "./dom.js";

const STATUSES = [["", "Every status"], ["open", "Open"], ["investigating", "Investigating"], ["closed", "Closed"]];
const SEVERITIES = [["", "Every severity"], ["critical", "Critical"], ["high", "High"], ["medium", "Medium"], ["low", "Low"]];
const OUTCOMES = [["confirmed_risk", "Confirmed risk"], ["false_positive", "False positive"], ["valuable_alert", "Valuable alert"], ["no_action", "No action"]];

function label(text) {
  return String(text || "").replaceAll("_", " ");
}

function decisionText(a) {
  if (a.decision) return `${label(a.decision.decision)}${a.decision.reference ? ` (${a.decision.reference})` : ""}`;
  if (a.recommendation) return `${label(a.recommendation.recommendation)}: decision due ${formatTime(a.recommendation.decision_due_at)}${a.decision_overdue ? " (overdue)" : ""}`;
  return "—";
}

export async function renderAlerts(auditId) {
  const status = select(STATUSES, "", { id: "alert-status" });
  const severity = select(SEVERITIES, "", { id: "alert-severity" });
  const assignee = h("input", { type: "search", id: "alert-assignee", placeholder: "assignee" });
  const out = h("div", { id: "alert-queue" });
  const load = async () => {
    clear(out).append(h("p", { class: "muted" }, "Loading…"));
    try {
      const page = await api(`/api/audits/${auditId}/alerts`, { query: { limit: 100, status: status.value, severity: severity.value, assignee: assignee.value.trim() } });
      clear(out);
      if (page.alerts.length === 0) {
        out.append(h("p", { id: "no-alerts" }, "No alert matches."));
      } else {
        const rows = [...page.alerts].sort((a, b) => new Date(a.first_seen_at) - new Date(b.first_seen_at)).map((a) =>
          h(
            "tr",
            { dataset: { alertId: a.alert_id, status: a.status } },
            h("th", { scope: "row" }, h("a", { href: `#/audits/${auditId}/alerts/${a.alert_id}` }, h("code", {}, a.rule_id)), " ", a.group_value),
            h("td", {}, label(a.severity)),
            h("td", {}, label(a.status), a.outcome ? ` (${label(a.outcome)})` : ""),
            h("td", {}, a.assignee || "—"),
            h("td", { class: "num" }, String(a.occurrences)),
            h("td", {}, formatTime(a.first_seen_at)),
            h("td", {}, decisionText(a)),
          ),
        );
        out.append(
          h(
            "table",
            { id: "alerts" },
            h("caption", {}, "Alerts, oldest first"),
            h("thead", {}, h("tr", {}, ["Rule and group", "Severity", "Status", "Assignee", "Occurrences", "First seen", "Report decision"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, rows),
          ),
        );
        if (page.next_cursor) out.append(h("p", { class: "muted" }, "More alerts than shown: narrow the filters."));
      }
      announce(`${page.alerts.length} alert(s)`);
    } catch (err) {
      clear(out).append(errorBox(err));
    }
  };
  for (const el of [status, severity]) el.addEventListener("change", load);
  assignee.addEventListener("change", load);
  queueMicrotask(load);
  return h(
    "div",
    {},
    h("p", {}, h("a", { href: `#/audits/${auditId}` }, "← Audit")),
    h("h1", {}, "Alerts"),
    h("p", {}, "Each alert is one rule, group and window, however many runs found it. Open one to work it."),
    h("div", { class: "row" }, field("Status", status), field("Severity", severity), field("Assignee", assignee)),
    out,
  );
}

/** A form that posts `body()` to the alert's `step` and reloads the view. */
function stepForm(id, title, base, step, controls, body, reload, submitLabel) {
  const problem = h("div", { "aria-live": "assertive" });
  const submit = async (ev) => {
    ev.preventDefault();
    clear(problem);
    try {
      await api(`${base}/${step}`, { method: "POST", body: body() });
      announce(`${title}: done`);
      reload();
    } catch (err) {
      problem.append(errorBox(err));
    }
  };
  return h("form", { id, class: "card", on: { submit } }, h("h3", {}, title), ...controls, h("button", { type: "submit" }, submitLabel), problem);
}

function trailRows(trail) {
  return trail.map((e) => {
    const p = JSON.parse(e.payload);
    const { seq, at, actor, event, alert_id: _id, ...details } = p;
    const said = Object.entries(details)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${label(k)}: ${Array.isArray(v) ? v.join(", ") : v}`)
      .join("; ");
    return [String(seq), formatTime(at), `${actor.kind} ${actor.id}`, label(event), said, h("code", { title: e.sha256 }, e.sha256.slice(0, 12))];
  });
}

export async function renderAlert(auditId, alertId) {
  const base = `/api/audits/${auditId}/alerts/${alertId}`;
  const root = h("div", {});
  const load = async () => {
    try {
      const { alert: a, occurrences, trail } = await api(base);
      const reload = () => load();
      const forms = [];
      const to = select([["investigating", "Investigating"], ["closed", "Closed"], ["open", "Open (reopen)"]].filter(([v]) => v !== a.status), "", { name: "to" });
      const outcome = select(OUTCOMES, "false_positive", { name: "outcome" });
      const reason = h("textarea", { name: "reason", maxlength: "2000", rows: "2" });
      forms.push(stepForm("transition-form", "Move it", base, "transitions", [field("To", to), field("Outcome (when closing)", outcome), field("Reason", reason)],
        () => (to.value === "closed" ? { to: to.value, outcome: outcome.value, reason: reason.value } : { to: to.value, ...(reason.value ? { reason: reason.value } : {}) }), reload, "Move"));
      const who = h("input", { type: "text", name: "assignee", maxlength: "200", value: a.assignee || "" });
      forms.push(stepForm("assign-form", "Assign", base, "assignment", [field("Assignee (empty unassigns)", who)], () => ({ assignee: who.value.trim() || null }), reload, "Assign"));
      const text = h("textarea", { name: "text", maxlength: "4000", rows: "2" });
      forms.push(stepForm("comment-form", "Comment", base, "comments", [field("Comment", text)], () => ({ text: text.value }), reload, "Add comment"));
      if (a.outcome === "confirmed_risk" && !a.recommendation) {
        const rec = select([["file_report", "File a report"], ["do_not_file", "Do not file"]], "file_report", { name: "recommendation" });
        const narrative = h("textarea", { name: "narrative", maxlength: "10000", rows: "4" });
        forms.push(stepForm("recommend-form", "Recommend", base, "recommendation", [field("Recommendation", rec), field("Narrative", narrative)], () => ({ recommendation: rec.value, narrative: narrative.value }), reload, "Recommend"));
      }
      let decision = null;
      if (a.recommendation && !a.decision) {
        if (a.can_decide) {
          const kind = select([["report_filed", "Report filed"], ["declined", "Declined"]], "report_filed", { name: "decision" });
          const reference = h("input", { type: "text", name: "reference", maxlength: "200" });
          const filedOn = h("input", { type: "date", name: "filed_on" });
          const why = h("textarea", { name: "reason", maxlength: "2000", rows: "2" });
          decision = stepForm("decision-form", "Decide (four eyes)", base, "decision", [field("Decision", kind), field("Filing reference", reference), field("Filed on", filedOn), field("Reason (when declining)", why)],
            () => (kind.value === "report_filed" ? { decision: kind.value, reference: reference.value, filed_on: filedOn.value } : { decision: kind.value, reason: why.value }), reload, "Decide");
        } else {
          decision = h("p", { id: "decision-waits", class: "notice" }, "Awaiting a decision by another admin: whoever recommended never decides.");
        }
      }
      clear(root).append(
        h("p", {}, h("a", { href: `#/audits/${auditId}/alerts` }, "← Alerts")),
        h("h1", {}, `${a.rule_id}: ${a.group_value}`),
        h(
          "div",
          { class: "grid", id: "alert-summary" },
          h("div", { class: "card" }, h("div", { class: "muted" }, "Status"), h("div", { id: "alert-status-now" }, label(a.status), a.outcome ? ` (${label(a.outcome)})` : "")),
          h("div", { class: "card" }, h("div", { class: "muted" }, "Occurrences"), h("div", {}, `${a.occurrences} (${a.snoozed_occurrences} while snoozed)`)),
          h("div", { class: "card" }, h("div", { class: "muted" }, "Assignee"), h("div", {}, a.assignee || "—")),
          h("div", { class: "card" }, h("div", { class: "muted" }, "Report decision"), h("div", { id: "alert-decision" }, decisionText(a))),
        ),
        a.recommendation ? h("p", { class: "card", id: "recommendation-text" }, `${label(a.recommendation.recommendation)} by ${a.recommendation.by.kind} ${a.recommendation.by.id}: `, a.recommendation.narrative) : null,
        decision,
        h("h2", {}, "Work it"),
        h("div", { class: "grid" }, forms),
        h("h2", {}, "Occurrences"),
        table("Runs that found it, oldest first", ["Run", "Records", "Why", "Seen"], occurrences.map((o) => [h("code", {}, o.run_id), o.record_ids.join(", "), o.message, `${formatTime(o.seen_at)}${o.snoozed ? " (snoozed)" : ""}`]), { id: "occurrences" }),
        h("h2", {}, "Trail"),
        h("p", { class: "muted" }, "Each step carries the SHA-256 of the one before: the case file proves itself. ", h("a", { href: "#", id: "case-file", on: { click: (ev) => { ev.preventDefault(); downloadCase(base, alertId); } } }, "Download the case file")),
        table("Every step, oldest first", ["#", "When", "Who", "What", "Details", "SHA-256"], trailRows(trail), { id: "trail" }),
      );
    } catch (err) {
      clear(root).append(errorBox(err));
    }
  };
  await load();
  return root;
}

async function downloadCase(base, alertId) {
  const doc = await api(`${base}/case`);
  const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" }));
  const a = h("a", { href: url, download: `case-${alertId}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}
