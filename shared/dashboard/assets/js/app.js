// The dashboard's shell: sign-in, navigation (hash routes, so the key never meets a URL and the
// server serves one page), and the page modules.
import { api, credential, saveCredential, signOut, setUnauthorizedHandler } from "./api.js";
import { h, clear, field, select, errorBox, announce } from "./dom.js";
import { renderOverview } from "./overview.js";
import { renderRepo } from "./repo.js";
import { renderSettings } from "./settings.js";
import { renderAuditTrail } from "./audit_trail.js";
import { renderAudits, renderAudit } from "./audits.js";
import { renderExports } from "./exports.js";
import { renderExceptions } from "./exceptions.js";
import { renderAlerts, renderAlert } from "./alerts.js";

const main = document.getElementById("main");

const routes = [
  [/^#?\/?$/, renderOverview, "Overview", "#/"],
  [/^#\/repos\/(\d+)$/, renderRepo, "Repository", "#/"],
  [/^#\/settings$/, renderSettings, "Settings", "#/settings"],
  [/^#\/exceptions$/, renderExceptions, "Exceptions", "#/exceptions"],
  [/^#\/audit-trail$/, renderAuditTrail, "Audit trail", "#/audit-trail"],
  [/^#\/audits$/, renderAudits, "Audits", "#/audits"],
  [/^#\/audits\/([\w-]+)$/, renderAudit, "Audit", "#/audits"],
  [/^#\/audits\/([\w-]+)\/alerts$/, renderAlerts, "Alerts", "#/audits"],
  [/^#\/audits\/([\w-]+)\/alerts\/([0-9a-f]+)$/, renderAlert, "Alert", "#/audits"],
  [/^#\/exports$/, renderExports, "Exports", "#/exports"],
];

let rendering = 0;

async function route() {
  const ticket = ++rendering;
  const cred = credential();
  document.getElementById("nav").hidden = !cred;
  document.getElementById("session").hidden = !cred;
  if (!cred) {
    renderSignIn();
    return;
  }
  document.getElementById("session-label").textContent = cred.kind === "bearer" ? "Signed in with a bearer token" : "Signed in with an API key";
  const hash = window.location.hash || "#/";
  const match = routes.map(([re, fn, title, nav]) => [re.exec(hash), fn, title, nav]).find(([m]) => m);
  for (const a of document.querySelectorAll("#nav a")) {
    if (match && a.getAttribute("href") === match[3]) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  clear(main);
  if (!match) {
    document.title = "Not found · Compliance dashboard";
    main.append(h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the overview")));
    return;
  }
  const [m, render, title] = match;
  document.title = `${title} · Compliance dashboard`;
  const page = h("div", { class: "page", "aria-busy": "true" }, h("p", { class: "muted" }, "Loading…"));
  main.append(page);
  try {
    const content = await render(...m.slice(1));
    if (ticket !== rendering) return;
    clear(page).append(content);
  } catch (err) {
    if (ticket !== rendering) return;
    clear(page).append(h("h1", {}, title), errorBox(err));
  }
  page.removeAttribute("aria-busy");
  main.dataset.ready = hash;
  const heading = main.querySelector("h1");
  if (heading && document.activeElement === document.body) heading.setAttribute("tabindex", "-1");
}

function renderSignIn() {
  document.title = "Sign in · Compliance dashboard";
  clear(main);
  const kind = select([["api_key", "API key (X-API-Key)"], ["bearer", "Bearer token (JWT)"]], "api_key", { name: "kind" });
  const secret = h("input", { type: "password", name: "secret", autocomplete: "off", required: true, spellcheck: "false" });
  const problem = h("div", { "aria-live": "assertive" });
  const form = h(
    "form",
    {
      class: "card signin",
      "aria-labelledby": "signin-title",
      on: {
        submit: async (e) => {
          e.preventDefault();
          clear(problem);
          const value = secret.value.trim();
          if (!value) return;
          const cred = { kind: kind.value, secret: value };
          try {
            // Any role may read the framework listing: it proves the credential.
            await api("/api/compliance/frameworks", { cred });
          } catch (err) {
            problem.append(errorBox(err.status === 401 ? new Error("That credential was not accepted.") : err));
            return;
          }
          saveCredential(cred.kind, cred.secret);
          secret.value = "";
          announce("Signed in");
          if (!window.location.hash || window.location.hash === "#/") route();
          else window.location.hash = "#/";
        },
      },
    },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Use an API key (the local server prints its demo admin key on the first start) or a bearer token. It is kept in this tab's session storage only."),
    field("Credential type", kind),
    field("Key or token", secret),
    problem,
    h("button", { type: "submit" }, "Sign in"),
  );
  main.append(form);
  main.dataset.ready = "signin";
  secret.focus();
}

document.getElementById("sign-out").addEventListener("click", () => {
  signOut();
  announce("Signed out");
  window.location.hash = "#/";
  route();
});

setUnauthorizedHandler(() => {
  signOut();
  route();
});

window.addEventListener("hashchange", () => {
  route().then(() => {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  });
});
route();
