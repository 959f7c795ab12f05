// Settings › Webhooks: the org's webhooks (admin and above; a member's 403 shows a notice, not an
// error), a form to add one (its signing secret shown once), and per webhook: enable or disable,
// rotate the secret (shown once; the previous one signs on for a while), send a ping, delete
// (confirmed first), and its recent deliveries with their attempts and a Redeliver button.
import { api } from "./api.js";
import { h, clear, field, errorBox, announce, uid, formatTime } from "./dom.js";

/** The subscribable event types (the `ping` is sent by the ping action only). */
export const EVENT_TYPES = [
  ["score.changed", "A framework's score or control statuses changed"],
  ["scan.ingested", "A scan was taken in"],
  ["scan.run_failed", "A tool of a scan failed"],
  ["audit_run.completed", "An audit run completed"],
  ["alert.opened", "An alert opened (or reopened)"],
  ["alert.decision_due", "An alert's report decision is due"],
  ["exception.requested", "An exception was requested"],
  ["exception.decided", "An exception was approved or rejected"],
  ["exception.expiring", "An exception expires in 14 days or 1 day"],
  ["attestation.due", "An attestation is due soon or overdue"],
];

const DELIVERIES_PAGE = 25;

function base(id) {
  return `/api/webhooks/${encodeURIComponent(id)}`;
}

/** An RFC 3339 time to the second (retries come seconds apart); formatTime's fallback else. */
function atSecond(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? formatTime(iso) : `${d.toISOString().replace("T", " ").slice(0, 19)} UTC`;
}

/** The notice that shows a signing secret this once, with a copy button. */
function secretNotice(id, title, secret, ...more) {
  const code = h("code", { class: "secret", id }, secret);
  const copy = h(
    "button",
    {
      type: "button",
      class: "secondary",
      on: {
        click: () => {
          const copied = navigator.clipboard ? navigator.clipboard.writeText(secret) : Promise.reject(new Error("no clipboard"));
          copied.then(
            () => announce("Secret copied"),
            () => announce("Could not copy: select the secret and copy it"),
          );
        },
      },
    },
    "Copy secret",
  );
  return h("div", { class: "notice", role: "alert", dataset: { secret: id } }, h("p", {}, h("strong", {}, title)), code, ...more, h("p", {}, copy));
}

function statusCell(w) {
  const parts = [];
  if (w.enabled) parts.push(h("span", { class: "status wh-enabled" }, "Enabled"));
  else {
    parts.push(h("span", { class: "status wh-disabled" }, "Disabled"));
    const why = [w.disabled_at ? `since ${formatTime(w.disabled_at)}` : null, w.disabled_reason].filter(Boolean).join(": ");
    if (why) parts.push(h("div", { dataset: { field: "disabled-reason" } }, why));
  }
  if (w.failing_since) parts.push(h("div", { class: "wh-failing", dataset: { field: "failing-since" } }, `Failing since ${formatTime(w.failing_since)}`));
  if (w.previous_secret_expires_at) parts.push(h("div", { class: "muted" }, `Previous secret signs until ${formatTime(w.previous_secret_expires_at)}`));
  return parts;
}

function attemptsList(attempts) {
  if (!attempts || attempts.length === 0) return h("span", { class: "muted" }, "No attempt yet");
  return h(
    "ol",
    { class: "wh-attempts" },
    attempts.map((a) =>
      h(
        "li",
        { dataset: { attempt: a.attempt, statusCode: a.status_code ?? "", outcome: a.outcome } },
        `${atSecond(a.at)}: `,
        a.status_code === null || a.status_code === undefined ? "no response" : `HTTP ${a.status_code}`,
        `, ${a.latency_ms} ms, ${a.outcome}`,
        a.error ? h("span", { class: "wh-error" }, ` (${a.error})`) : null,
      ),
    ),
  );
}

function deliveryBadge(status) {
  const cls = { delivered: "wh-enabled", failed: "wh-disabled", pending: "wh-pending" }[status] || "";
  return h("span", { class: `status ${cls}` }, status);
}

export function webhooksSection() {
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  const section = h(
    "section",
    { class: "card", id: "webhooks", "aria-labelledby": "s-wh" },
    h("h2", { id: "s-wh", tabindex: "-1" }, "Webhooks"),
    h(
      "p",
      {},
      "The API posts each event your webhooks subscribe to as JSON, signed as Standard Webhooks are (the ",
      h("code", {}, "webhook-id"),
      ", ",
      h("code", {}, "webhook-timestamp"),
      " and ",
      h("code", {}, "webhook-signature"),
      " headers). Failed deliveries are retried; a webhook failing for 5 days is disabled.",
    ),
    body,
  );
  const heading = section.querySelector("h2");
  const list = h("div", { id: "webhooks-list" });
  // What an action on a webhook answered (a new secret, a ping, an error), under the list.
  const outcome = h("div", { id: "webhook-outcome", "aria-live": "polite" });
  const deliveries = h("div", { id: "webhook-deliveries-panel" });
  let shown = null; // the webhook whose deliveries are open: {id, refresh}

  // An action's outcome replaces the previous one, except a rotated secret not yet replaced by
  // another rotation: it is shown once, and another click must not take it away.
  const act = async (fn) => {
    for (const el of [...outcome.children]) if (!el.matches("[data-secret]")) el.remove();
    try {
      await fn();
    } catch (err) {
      outcome.append(errorBox(err));
    }
  };

  const openDeliveries = (w) => {
    const rows = h("tbody", {});
    const problem = h("div", { "aria-live": "assertive" });
    const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older deliveries");
    const caption = h("caption", {}, "Recent deliveries, newest first");
    const title = h("h3", { id: uid("wh-dl"), tabindex: "-1" }, "Deliveries to ", h("code", {}, w.url));
    let cursor = null;
    const row = (d) =>
      h(
        "tr",
        { dataset: { deliveryId: d.id, status: d.status, eventType: d.event_type } },
        h("td", {}, h("code", {}, d.event_type)),
        h("td", {}, h("code", {}, d.id), h("div", { class: "muted" }, atSecond(d.created_at))),
        h("td", { dataset: { field: "status" } }, deliveryBadge(d.status)),
        h("td", { dataset: { field: "attempts" } }, attemptsList(d.attempts)),
        h("td", { dataset: { field: "next-attempt" } }, d.next_attempt_at ? atSecond(d.next_attempt_at) : "—"),
        h(
          "td",
          {},
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              dataset: { action: "redeliver" },
              "aria-label": `Redeliver ${d.event_type} ${d.id}`,
              on: {
                click: async () => {
                  clear(problem);
                  try {
                    await api(`${base(w.id)}/deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: "POST" });
                    announce(`${d.id}: one more attempt now`);
                    await loadDeliveries(false);
                  } catch (err) {
                    problem.append(errorBox(err));
                  }
                },
              },
            },
            "Redeliver",
          ),
        ),
      );
    const loadDeliveries = async (append) => {
      clear(problem);
      try {
        const page = await api(`${base(w.id)}/deliveries`, { query: { limit: DELIVERIES_PAGE, cursor: append ? cursor : undefined } });
        if (!append) clear(rows);
        for (const d of page.deliveries || []) rows.append(row(d));
        cursor = page.next_cursor || null;
        more.hidden = !cursor;
        caption.textContent = rows.children.length ? "Recent deliveries, newest first" : "No delivery yet: send a ping to try the URL.";
        const n = rows.children.length;
        announce(`${n} deliver${n === 1 ? "y" : "ies"} shown`);
      } catch (err) {
        problem.append(errorBox(err));
      }
    };
    more.addEventListener("click", () => loadDeliveries(true));
    shown = { id: w.id, refresh: () => loadDeliveries(false) };
    const close = () => {
      shown = null;
      clear(deliveries);
      const back = list.querySelector(`tr[data-webhook-id="${CSS.escape(w.id)}"] button[data-action="deliveries"]`);
      (back || heading).focus();
    };
    clear(deliveries).append(
      h(
        "section",
        { class: "card", id: "webhook-deliveries", "aria-labelledby": title.id, dataset: { webhookId: w.id } },
        title,
        h(
          "p",
          { class: "inline-form" },
          h("button", { type: "button", class: "secondary", id: "webhook-deliveries-refresh", on: { click: () => loadDeliveries(false) } }, "Refresh"),
          h("button", { type: "button", class: "secondary", on: { click: close } }, "Close deliveries"),
        ),
        problem,
        h(
          "table",
          { id: "webhook-deliveries-table" },
          caption,
          h(
            "thead",
            {},
            h("tr", {}, ["Event", "Delivery id", "Status", "Attempts", "Next attempt"].map((t) => h("th", { scope: "col" }, t)), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions"))),
          ),
          rows,
        ),
        h("p", {}, more),
      ),
    );
    title.focus();
    return loadDeliveries(false);
  };

  const actions = (w) => {
    const button = (action, text, label, cls, onClick) =>
      h("button", { type: "button", class: cls, dataset: { action, webhookId: w.id }, "aria-label": `${label} ${w.url}`, on: { click: onClick } }, text);
    return h(
      "div",
      { class: "wh-actions" },
      button("toggle", w.enabled ? "Disable" : "Enable", w.enabled ? "Disable the webhook to" : "Enable the webhook to", "secondary", () =>
        act(async () => {
          const saved = await api(base(w.id), { method: "PATCH", body: { enabled: !w.enabled } });
          announce(`Webhook ${saved.enabled ? "enabled" : "disabled"}`);
          await load({ id: w.id, action: "toggle" });
        }),
      ),
      button("rotate", "Rotate secret", "Rotate secret of the webhook to", "secondary", () =>
        act(async () => {
          const r = await api(`${base(w.id)}/secret`, { method: "POST" });
          clear(outcome).append(
            secretNotice(
              "webhook-rotated-secret",
              `New signing secret for ${w.url}. It is shown only this once: copy it now.`,
              r.secret,
              h("p", { id: "webhook-previous-expires" }, `The previous secret also signs every delivery until ${formatTime(r.previous_secret_expires_at)}: switch the receiver over before then.`),
            ),
          );
          await load();
        }),
      ),
      button("ping", "Send ping", "Send ping to", "secondary", () =>
        act(async () => {
          const d = await api(`${base(w.id)}/ping`, { method: "POST" });
          outcome.append(h("p", { id: "webhook-ping-sent", dataset: { deliveryId: d.id } }, `Ping sent to ${w.url} as `, h("code", {}, d.id), ": its result shows in the deliveries."));
          announce("Ping sent");
          if (shown && shown.id === w.id) await shown.refresh();
        }),
      ),
      button("deliveries", "Deliveries", "Deliveries of the webhook to", "secondary", () => openDeliveries(w)),
      button("delete", "Delete", "Delete the webhook to", "danger", () => {
        if (!window.confirm(`Delete the webhook to ${w.url}? Nothing more is delivered to it.`)) return;
        act(async () => {
          await api(base(w.id), { method: "DELETE" });
          if (shown && shown.id === w.id) {
            shown = null;
            clear(deliveries);
          }
          announce("Webhook deleted");
          await load();
          heading.focus();
        });
      }),
    );
  };

  /** Loads the list; `focus` ({id, action}) puts the focus back on a re-drawn button. */
  const load = async (focus) => {
    const webhooks = (await api("/api/webhooks")).webhooks || [];
    clear(list);
    if (webhooks.length === 0) {
      list.append(h("p", { id: "no-webhooks", class: "muted" }, "No webhook yet."));
    } else {
      list.append(
        h(
          "table",
          { id: "webhooks-table" },
          h("caption", {}, "Webhooks, oldest first"),
          h("thead", {}, h("tr", {}, ["URL", "Events", "Status", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            webhooks.map((w) =>
              h(
                "tr",
                { dataset: { webhookId: w.id, enabled: String(w.enabled) } },
                h("th", { scope: "row" }, h("code", {}, w.url), w.description ? h("div", { class: "muted" }, w.description) : null),
                h("td", {}, (w.events || []).map((e, i) => [i ? ", " : "", h("code", {}, e)])),
                h("td", { dataset: { field: "status" } }, statusCell(w)),
                h("td", {}, actions(w)),
              ),
            ),
          ),
        ),
      );
    }
    if (focus && focus.id) {
      const again = list.querySelector(`tr[data-webhook-id="${CSS.escape(focus.id)}"] button[data-action="${focus.action}"]`);
      if (again) again.focus();
    }
    return webhooks;
  };

  queueMicrotask(async () => {
    try {
      await load();
    } catch (err) {
      if (err.status === 403) {
        clear(body).append(
          h("p", { class: "notice", id: "webhooks-admin-only" }, "Webhooks are managed by your org's admins. Ask an admin to add one or to change where events are sent."),
        );
        return;
      }
      clear(body).append(errorBox(err));
      return;
    }
    clear(body).append(list, outcome, deliveries, h("h3", { id: "s-wh-new" }, "New webhook"), createForm(load));
  });
  return section;
}

function createForm(reload) {
  const url = h("input", { type: "url", id: "new-webhook-url", required: true, maxlength: "2048", spellcheck: "false", autocomplete: "off", placeholder: "https://", dataset: { path: "url" } });
  const description = h("input", { type: "text", id: "new-webhook-description", maxlength: "200", dataset: { path: "description" } });
  const events = h(
    "fieldset",
    { id: "new-webhook-events", dataset: { path: "events" } },
    h("legend", {}, "Events (one or more)"),
    EVENT_TYPES.map(([type, text]) => {
      const id = `new-webhook-event-${type.replace(/[._]/g, "-")}`;
      return h("div", {}, h("input", { type: "checkbox", id, name: "events", value: type }), " ", h("label", { for: id }, h("code", {}, type)), " ", h("span", { class: "muted" }, text));
    }),
  );
  const out = h("div", { id: "new-webhook-out", "aria-live": "polite" });
  const form = h("form", { id: "new-webhook", novalidate: true, "aria-labelledby": "s-wh-new" });
  /** Adds or removes an id in an element's aria-describedby (its hint stays). */
  const describedBy = (el, id, add) => {
    const ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter((x) => x && x !== id);
    if (add) ids.push(id);
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  };
  const clearErrors = () => {
    for (const msg of form.querySelectorAll(".field-error")) {
      for (const el of form.querySelectorAll("[aria-describedby]")) describedBy(el, msg.id, false);
      msg.remove();
    }
    for (const el of form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-errormessage");
    }
  };
  /** A field error next to the field it names (the events' inside their fieldset), tied to it by
   * aria-errormessage and aria-describedby (read with the field by every screen reader). */
  const showAt = (path, message) => {
    const name = String((path || [])[0] ?? "");
    const msg = h("span", { class: "field-error error", id: uid("err") }, message);
    if (name === "events") {
      events.append(msg);
      describedBy(events, msg.id, true);
      return events.querySelector("input");
    }
    const el = name ? form.querySelector(`input[data-path="${CSS.escape(name)}"]`) : null;
    if (!el) {
      out.append(msg);
      return null;
    }
    el.setAttribute("aria-invalid", "true");
    el.setAttribute("aria-errormessage", msg.id);
    describedBy(el, msg.id, true);
    el.insertAdjacentElement("afterend", msg);
    return el;
  };
  const problems = (list) => {
    const first = list.map((x) => showAt(x.path, x.message)).find(Boolean);
    out.append(h("p", { class: "error", role: "alert" }, `${list.length} problem${list.length === 1 ? "" : "s"}: see the fields marked.`));
    if (first) first.focus();
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(out);
    clearErrors();
    const chosen = [...events.querySelectorAll("input:checked")].map((b) => b.value);
    if (chosen.length === 0) {
      problems([{ path: ["events"], message: "Tick at least one event." }]);
      return;
    }
    const payload = { url: url.value.trim(), events: chosen };
    if (description.value.trim()) payload.description = description.value.trim();
    try {
      const w = await api("/api/webhooks", { method: "POST", body: payload });
      out.append(
        secretNotice(
          "new-webhook-secret",
          `Webhook to ${w.url} created. Its signing secret is shown only this once: copy it now.`,
          w.secret,
          h("p", {}, "Verify each delivery's webhook-signature with it (HMAC-SHA256, as Standard Webhooks' libraries do)."),
        ),
      );
      form.reset();
      announce("Webhook created");
      await reload();
    } catch (err) {
      const errors = err.body && Array.isArray(err.body.errors) ? err.body.errors : [];
      if (err.status === 400 && errors.length) problems(errors);
      else out.append(errorBox(err));
    }
  });
  form.append(
    field("Payload URL", url, "https only (http to loopback only where the server allows it); no private or local addresses."),
    events,
    field("Description (optional)", description),
    h("button", { type: "submit" }, "Create webhook"),
    out,
  );
  return form;
}
