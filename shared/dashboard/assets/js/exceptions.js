// Exceptions awaiting a decision: each repository's and the org's. The API says, per exception,
// whether the signed-in caller may decide it (admin and above, never its own requester), and
// only those get the approve and reject controls.
import { api } from "./api.js";
import { h, clear, field, errorBox, formatTime, announce } from "./dom.js";

function scopeText(scope) {
  if (scope.fingerprints) return `${scope.fingerprints.length} finding(s) by fingerprint`;
  if (scope.rule_id) return scope.path ? `rule ${scope.rule_id} in ${scope.path}` : `rule ${scope.rule_id}`;
  return `CWE-${scope.cwe}`;
}

function actorText(a) {
  return a ? [a.kind, a.email || a.id].filter(Boolean).join(": ") : "—";
}

/** Every requested exception: the org's, then each repository's (first 100 repositories). */
async function requested() {
  const [org, repos] = await Promise.all([
    api("/api/compliance/exceptions", { query: { state: "requested", limit: 100 } }),
    api("/api/repos", { query: { limit: 100 } }),
  ]);
  const rows = org.exceptions.map((e) => ({ e, where: "Every repository", base: "/api/compliance/exceptions" }));
  const lists = await Promise.all(
    repos.repos.map((r) =>
      api(`/api/repos/${r.repo_id}/exceptions`, { query: { state: "requested", limit: 100 } }).then((l) =>
        l.exceptions.map((e) => ({ e, where: r.name, base: `/api/repos/${r.repo_id}/exceptions` })),
      ),
    ),
  );
  return rows.concat(lists.flat());
}

function decision(row, reload) {
  const { e, base } = row;
  if (!e.can_decide) return h("span", { class: "muted" }, "Awaiting another admin");
  const problem = h("div", { "aria-live": "assertive" });
  const decide = async (verb, body) => {
    clear(problem);
    try {
      await api(`${base}/${e.exception_id}/${verb}`, { method: "POST", body });
      announce(`Exception ${verb === "approve" ? "approved" : "rejected"}`);
      reload();
    } catch (err) {
      problem.append(errorBox(err));
    }
  };
  const reason = h("input", { type: "text", name: "reason", maxlength: "1000", dataset: { exceptionId: e.exception_id } });
  return h(
    "div",
    { class: "decision" },
    h("button", { type: "button", class: "approve", dataset: { exceptionId: e.exception_id }, on: { click: () => decide("approve", {}) } }, "Approve"),
    h(
      "form",
      { class: "row", on: { submit: (ev) => { ev.preventDefault(); decide("reject", { reason: reason.value }); } } },
      field("Reason to reject", reason),
      h("button", { type: "submit", class: "secondary" }, "Reject"),
    ),
    problem,
  );
}

export async function renderExceptions() {
  const out = h("div", {});
  const load = async () => {
    clear(out).append(h("p", { class: "muted" }, "Loading…"));
    try {
      const rows = await requested();
      clear(out);
      if (rows.length === 0) {
        out.append(h("p", { id: "no-exceptions" }, "No exception awaits a decision."));
      } else {
        out.append(
          h(
            "table",
            { id: "exceptions" },
            h("caption", {}, "Exceptions awaiting a decision"),
            h("thead", {}, h("tr", {}, ["Where", "Findings", "Kind", "Justification", "Expires", "Requested by", "Decision"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              {},
              rows.map((row) =>
                h(
                  "tr",
                  { dataset: { exceptionId: row.e.exception_id } },
                  h("td", {}, row.where),
                  h("td", {}, scopeText(row.e.scope)),
                  h("td", {}, row.e.kind.replaceAll("_", " ")),
                  h("td", {}, row.e.justification),
                  h("td", {}, row.e.expires_at ? formatTime(row.e.expires_at) : "no expiry"),
                  h("td", {}, `${actorText(row.e.requested_by)}, ${formatTime(row.e.requested_at)}`),
                  h("td", {}, decision(row, load)),
                ),
              ),
            ),
          ),
        );
      }
      announce(`${rows.length} exception(s) awaiting a decision`);
    } catch (err) {
      clear(out).append(errorBox(err));
    }
  };
  queueMicrotask(load);
  return h(
    "div",
    {},
    h("h1", {}, "Exceptions"),
    h("p", {}, "Requests to set findings aside. An approved exception takes its findings out of the scores until it expires; whoever asked never decides."),
    out,
  );
}
