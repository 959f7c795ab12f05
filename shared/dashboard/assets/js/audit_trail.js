// Audit trail: every change, newest first; filter by action and time, page through.
import { api } from "./api.js";
import { h, clear, field, select, errorBox, formatTime, announce } from "./dom.js";

const ACTIONS = [
  "API_KEY_CREATED", "API_KEY_REVOKED", "ORG_CREATED", "ORG_PLAN_CHANGED",
  "COMPLIANCE_FRAMEWORKS_UPDATED", "COMPLIANCE_CONTROLS_UPDATED",
  "COMPLIANCE_CUSTOM_FRAMEWORK_CREATED", "COMPLIANCE_CUSTOM_FRAMEWORK_UPDATED", "COMPLIANCE_CUSTOM_FRAMEWORK_DELETED",
  "REPO_CREATED", "SCAN_INGESTED", "AUDIT_CREATED", "POLICY_RULE_UPDATED", "AUDIT_RUN_COMPLETED",
  "UPLOAD_CREATED", "UPLOAD_FAILED",
  "COMPLIANCE_SETTINGS_UPDATED",
  "EXCEPTION_REQUESTED", "EXCEPTION_APPROVED", "EXCEPTION_REJECTED", "EXCEPTION_REVOKED", "EXCEPTION_RESOLVED",
  "ATTESTATION_RECORDED", "ATTESTATION_WITHDRAWN",
  "AUDIT_REVIEWERS_UPDATED", "ALERT_TRANSITIONED", "ALERT_ASSIGNED", "ALERT_COMMENTED", "ALERT_SNOOZED", "ALERT_RECOMMENDED", "ALERT_DECIDED",
  "WEBHOOK_CREATED", "WEBHOOK_UPDATED", "WEBHOOK_DELETED", "WEBHOOK_SECRET_ROTATED", "WEBHOOK_DISABLED", "WEBHOOK_REDELIVERED", "WEBHOOK_PINGED",
];

function iso(local) {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function actorText(a) {
  if (!a) return "—";
  return [a.kind, a.email || a.id].filter(Boolean).join(": ");
}

export async function renderAuditTrail() {
  const action = select([["", "Every action"], ...ACTIONS.map((a) => [a, a])], "", { id: "audit-action" });
  const from = h("input", { type: "datetime-local", id: "audit-from" });
  const to = h("input", { type: "datetime-local", id: "audit-to" });
  const size = select(["10", "25", "50", "100"], "25", { id: "audit-limit" });
  const out = h("div", {});
  const prev = h("button", { type: "button", class: "secondary" }, "Newer");
  const next = h("button", { type: "button", class: "secondary" }, "Older");
  // The cursors of the pages seen so far (the first page has none).
  let cursors = [undefined];
  let page = 0;
  let nextCursor = null;

  const load = async () => {
    clear(out).append(h("p", { class: "muted" }, "Loading…"));
    try {
      const data = await api("/api/audit-logs", { query: { action: action.value, from: iso(from.value), to: iso(to.value), limit: size.value, cursor: cursors[page] } });
      nextCursor = data.next_cursor;
      clear(out);
      if (data.entries.length === 0) {
        out.append(h("p", {}, "No entry matches."));
      } else {
        out.append(
          h(
            "table",
            { id: "audit-entries" },
            h("caption", {}, `Audit entries, page ${page + 1}`),
            h("thead", {}, h("tr", {}, ["When", "Action", "Actor", "Source", "Request id", "Details"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              {},
              data.entries.map((e) =>
                h(
                  "tr",
                  {},
                  h("td", {}, formatTime(e.created_at)),
                  h("td", {}, h("code", {}, e.action)),
                  h("td", {}, actorText(e.actor)),
                  h("td", {}, [e.source_ip, e.user_agent].filter(Boolean).join(" · ") || "—"),
                  h("td", {}, h("code", {}, e.request_id || "—")),
                  h("td", {}, h("details", {}, h("summary", {}, "metadata"), h("pre", {}, JSON.stringify(e.metadata, null, 2)))),
                ),
              ),
            ),
          ),
        );
      }
      prev.disabled = page === 0;
      next.disabled = !nextCursor;
      announce(`${data.entries.length} audit entries, page ${page + 1}`);
    } catch (err) {
      clear(out).append(errorBox(err));
    }
  };
  const restart = (e) => {
    if (e) e.preventDefault();
    cursors = [undefined];
    page = 0;
    load();
  };
  prev.addEventListener("click", () => {
    if (page > 0) {
      page -= 1;
      load();
    }
  });
  next.addEventListener("click", () => {
    if (nextCursor) {
      cursors[page + 1] = nextCursor;
      page += 1;
      load();
    }
  });
  const form = h(
    "form",
    { on: { submit: restart }, class: "row" },
    field("Action", action),
    field("From (local time)", from),
    field("To (local time)", to),
    field("Per page", size),
    h("button", { type: "submit" }, "Apply"),
  );
  queueMicrotask(load);
  return h("div", {}, h("h1", {}, "Audit trail"), form, out, h("div", { class: "pager" }, prev, next));
}
