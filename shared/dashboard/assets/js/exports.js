// Exports: the OSCAL assessment results of a repository and a framework's Statement of
// Applicability, downloaded with the credential in a header and saved from a blob.
import { api, all, download } from "./api.js";
import { h, clear, field, select, errorBox, announce } from "./dom.js";

export async function renderExports() {
  const [repos, frameworks] = await Promise.all([all("/api/repos", "repos"), api("/api/compliance/frameworks")]);
  const usable = (frameworks.available || []).filter((f) => f.enabled);
  const out = h("div", { "aria-live": "polite" });
  const run = async (path, filename) => {
    clear(out).append(h("p", { class: "muted" }, "Downloading…"));
    try {
      const blob = await download(path, filename);
      clear(out).append(h("p", {}, `Saved ${filename} (${blob.size} bytes).`));
      announce(`Saved ${filename}`);
    } catch (err) {
      clear(out).append(err.status === 404 ? errorBox(new Error("This export is not available on this server yet.")) : errorBox(err));
    }
  };
  const repo = select(repos.map((r) => [String(r.repo_id), r.name]), repos[0] ? String(repos[0].repo_id) : "", { id: "export-repo" });
  const fw = select(usable.map((f) => [f.key, f.name]), usable[0]?.key, { id: "export-framework" });
  return h(
    "div",
    {},
    h("h1", {}, "Exports"),
    h(
      "section",
      { class: "card", "aria-labelledby": "x-oscal" },
      h("h2", { id: "x-oscal" }, "OSCAL assessment results"),
      h("p", {}, "A repository's scores as an OSCAL document, for GRC tools."),
      h(
        "div",
        { class: "row" },
        field("Repository", repo),
        h("button", { type: "button", disabled: repos.length === 0, on: { click: () => run(`/api/compliance/score/${encodeURIComponent(repo.value)}/oscal`, `oscal-repo-${repo.value}.json`) } }, "Download OSCAL"),
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "x-soa" },
      h("h2", { id: "x-soa" }, "Statement of Applicability"),
      h("p", {}, "Every control of a framework: applicable or not, and its status."),
      h(
        "div",
        { class: "row" },
        field("Framework", fw),
        h("button", { type: "button", disabled: usable.length === 0, on: { click: () => run(`/api/compliance/frameworks/${encodeURIComponent(fw.value)}/soa`, `soa-${fw.value}.json`) } }, "Download SoA"),
      ),
    ),
    out,
  );
}
