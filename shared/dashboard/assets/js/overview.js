// Overview: every repository with its overall score, posture, 30-day sparkline, latest scan and
// weakest framework; the attestations due for review; the org's frameworks.
import { api, all } from "./api.js";
import { h, postureBadge, formatTime, table } from "./dom.js";
import { sparkline } from "./charts.js";

/** Runs `fn` over `items`, at most `n` at a time. */
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (err) {
        out[i] = { error: err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

function worstFramework(score) {
  let worst = null;
  for (const fw of Object.values(score.frameworks || {})) {
    if (fw.score === null || fw.score === undefined) continue;
    if (!worst || fw.score < worst.score) worst = fw;
  }
  return worst;
}

/**
 * The repositories with their overall score, posture, latest scan and weakest framework: from
 * GET /api/compliance/summary (pages combined), or, on a server without it, one score a repo.
 */
async function scoredRepos() {
  try {
    const repos = [];
    const overall = { scored: 0, score_sum: 0, distribution: { Strong: 0, Moderate: 0, Weak: 0, Critical: 0 } };
    let cursor;
    do {
      const page = await api("/api/compliance/summary", { query: { limit: 100, cursor } });
      repos.push(...page.repos);
      overall.scored += page.overall.scored;
      overall.score_sum += page.overall.score_sum;
      for (const [band, n] of Object.entries(page.overall.distribution || {})) overall.distribution[band] = (overall.distribution[band] || 0) + n;
      cursor = page.next_cursor;
    } while (cursor && repos.length < 1000);
    return {
      overall,
      repos: repos.map((r) => ({ repo_id: r.repo_id, name: r.name, overall_score: r.overall_score, posture: r.posture, last_scan: r.last_scan_at, worst: r.worst_framework })),
    };
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  const listed = await all("/api/repos", "repos");
  const scores = await pool(listed, 4, (repo) => api(`/api/compliance/score/${repo.repo_id}`));
  return {
    overall: null,
    repos: listed.map((repo, i) => {
      const score = scores[i];
      if (score.error) return { repo_id: repo.repo_id, name: repo.name, error: score.error };
      const s = score.executive_summary;
      return { repo_id: repo.repo_id, name: repo.name, overall_score: s.overall_score, posture: s.posture, last_scan: score.last_scan, worst: worstFramework(score) };
    }),
  };
}

const STATE_TEXT = { current: "current", due_soon: "due soon", overdue: "overdue" };

/** The attestations due within 30 days or overdue, soonest first; null on a server without them. */
async function dueAttestations() {
  try {
    const [soon, late] = await Promise.all(["due_soon", "overdue"].map((state) => api("/api/compliance/attestations", { query: { state } })));
    return { counts: soon.counts, due: [...late.attestations, ...soon.attestations] };
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

function attestationsSection(attestations) {
  if (!attestations) return null;
  const { counts, due } = attestations;
  const rows = due.map((a) =>
    h(
      "tr",
      { dataset: { framework: a.framework_key, control: a.control_id, state: a.state } },
      h("th", { scope: "row" }, h("code", {}, `${a.framework_key} ${a.control_id}`)),
      h("td", {}, h("span", { class: `status attestation-${a.state}` }, STATE_TEXT[a.state] || a.state)),
      h("td", {}, formatTime(a.due_at)),
      h("td", {}, a.owner),
      h("td", {}, a.statement),
    ),
  );
  return h(
    "section",
    { "aria-labelledby": "attestations-title", id: "attestations-due" },
    h("h2", { id: "attestations-title" }, "Attestations due"),
    h("p", { class: "muted", id: "attestation-counts" }, `${counts.current} current, ${counts.due_soon} due within 30 days, ${counts.overdue} overdue (an overdue attestation counts as no evidence).`),
    rows.length === 0 ? h("p", {}, "Nothing due for review in the next 30 days.") : table("Attestations due for review or overdue, soonest first", ["Control", "State", "Due", "Owner", "Statement"], rows, { id: "attestations" }),
  );
}

export async function renderOverview() {
  const [{ repos, overall }, frameworks, attestations] = await Promise.all([scoredRepos(), api("/api/compliance/frameworks"), dueAttestations()]);
  const trends = await pool(repos, 4, (repo) => api(`/api/compliance/trend/${repo.repo_id}`, { query: { days: 30 } }));

  const rows = repos.map((repo, i) => {
    const link = h("th", { scope: "row" }, h("a", { href: `#/repos/${repo.repo_id}` }, repo.name));
    if (repo.error) return h("tr", {}, link, h("td", { colspan: "5", class: "error" }, repo.error.message));
    const trend = trends[i];
    return h(
      "tr",
      { dataset: { repoId: String(repo.repo_id) } },
      link,
      h("td", { class: "num", dataset: { field: "overall-score" } }, String(repo.overall_score)),
      h("td", {}, postureBadge(repo.posture)),
      h("td", {}, trend.error ? h("span", { class: "error" }, trend.error.message) : sparkline(trend.points, `${repo.name}, overall score, last 30 days`)),
      h("td", {}, repo.last_scan ? formatTime(repo.last_scan) : "never scanned"),
      h("td", {}, repo.worst ? `${repo.worst.name} (${repo.worst.score})` : "—"),
    );
  });
  const average = overall && overall.scored ? Math.floor(overall.score_sum / overall.scored + 0.5) : null;
  const cards =
    overall && repos.length
      ? h(
          "div",
          { class: "grid", id: "org-summary" },
          h("div", { class: "card" }, h("div", { class: "muted" }, "Average overall score"), h("div", { class: "score" }, average === null ? "—" : String(average)), h("div", { class: "muted" }, `${repos.length} ${repos.length === 1 ? "repository" : "repositories"}`)),
          ...["Strong", "Moderate", "Weak", "Critical"].map((band) =>
            h("div", { class: "card" }, h("div", { class: "muted" }, "Posture"), postureBadge(band), h("div", { class: "score" }, String(overall.distribution[band] || 0))),
          ),
        )
      : null;

  const fwRows = (frameworks.available || []).map((f) => [
    f.name,
    f.custom ? "custom" : "built-in",
    String(f.control_count),
    f.plan_locked ? `needs the ${f.requires_plan} plan` : f.enabled ? "enabled" : "not enabled",
  ]);

  return h(
    "div",
    {},
    h("h1", {}, "Overview"),
    cards,
    repos.length === 0
      ? h("p", { class: "card" }, "No repository yet. Create one with POST /api/repos and send it a scan.")
      : table("Repositories", ["Repository", "Overall score", "Posture", "Trend (30 days)", "Latest scan", "Weakest framework"], rows, { id: "repos" }),
    attestationsSection(attestations),
    h("h2", {}, "Frameworks"),
    table("The org's frameworks", ["Framework", "Kind", "Controls", "Status"], fwRows, { id: "frameworks" }),
  );
}
