// `github_issues` tool (JavaScript, built with componentize-js): search, list
// and create GitHub issues with the ordinary `fetch`.
//
// The tool never sees the token. The operator configures it once in
// kennel.toml (`[secrets.github]`, value from an environment variable) and
// grants it in github_issues.toml; the host adds `Authorization: Bearer …`
// to requests bound for the granted API host and scrubs the value from
// anything that comes back. `secrets.isConfigured` only says whether it exists.
//
// `api_url` (default https://api.github.com) lets GitHub Enterprise or a test
// server stand in; the host's allowlist decides what is reachable.

import { isConfigured } from "kennel:guest/secrets@0.2.0";

const DEFAULT_API = "https://api.github.com";

export function describe() {
  return {
    name: "github_issues",
    description:
      "Search, list or create GitHub issues of a repository. action=search needs query; action=create needs title (and optional body).",
    parameters: JSON.stringify({
      type: "object",
      properties: {
        action: { type: "string", enum: ["search", "list", "create"] },
        repo: { type: "string", pattern: "^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description: "owner/name" },
        query: { type: "string", description: "search words (action=search)" },
        state: { type: "string", enum: ["open", "closed", "all"] },
        title: { type: "string", minLength: 1, maxLength: 256 },
        body: { type: "string", maxLength: 65536 },
        limit: { type: "integer", minimum: 1, maximum: 50 },
        api_url: { type: "string", description: "API base URL (default https://api.github.com)" },
      },
      required: ["action", "repo"],
      additionalProperties: false,
    }),
  };
}

function headers(json) {
  const h = {
    accept: "application/vnd.github+json",
    "user-agent": "kennel-github-issues/0.2",
    "x-github-api-version": "2022-11-28",
  };
  if (json) h["content-type"] = "application/json";
  return h;
}

async function call(url, init) {
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (e) {
    throw `request to ${url} failed: ${e && e.message ? e.message : e}`;
  }
  const text = await resp.text();
  if (!resp.ok) {
    let msg = text.slice(0, 300);
    try {
      msg = JSON.parse(text).message || msg;
    } catch (_) {}
    throw `GitHub answered HTTP ${resp.status}: ${msg}`;
  }
  try {
    return JSON.parse(text);
  } catch (_) {
    throw `GitHub answered something that is not JSON (${text.length} bytes)`;
  }
}

function line(issue) {
  const state = issue.state ? ` [${issue.state}]` : "";
  return `#${issue.number}${state} ${issue.title} — ${issue.html_url}`;
}

export async function invoke(argumentsJson) {
  let a;
  try {
    a = JSON.parse(argumentsJson);
  } catch (e) {
    throw `arguments are not JSON: ${e.message}`;
  }
  const api = String(a.api_url || DEFAULT_API).replace(/\/+$/, "");
  const limit = Math.min(Math.max(a.limit || 10, 1), 50);
  const repo = String(a.repo || "");
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repo)) throw "`repo` must be owner/name";
  switch (a.action) {
    case "search": {
      if (!a.query) throw "`query` is required for action=search";
      const q = encodeURIComponent(`repo:${repo} is:issue ${a.query}`);
      const r = await call(`${api}/search/issues?q=${q}&per_page=${limit}`, { headers: headers(false) });
      const items = (r.items || []).slice(0, limit);
      if (items.length === 0) return `No issues in ${repo} match “${a.query}”.`;
      return `${r.total_count ?? items.length} issue(s) in ${repo} match; first ${items.length}:\n` + items.map(line).join("\n");
    }
    case "list": {
      const state = a.state || "open";
      const r = await call(`${api}/repos/${repo}/issues?state=${state}&per_page=${limit}`, { headers: headers(false) });
      const items = (Array.isArray(r) ? r : []).filter((i) => !i.pull_request).slice(0, limit);
      if (items.length === 0) return `No ${state} issues in ${repo}.`;
      return items.map(line).join("\n");
    }
    case "create": {
      if (!isConfigured("github")) {
        throw "creating issues needs a GitHub token: the operator sets [secrets.github] in kennel.toml and grants it in github_issues.toml";
      }
      if (!a.title) throw "`title` is required for action=create";
      const r = await call(`${api}/repos/${repo}/issues`, {
        method: "POST",
        headers: headers(true),
        body: JSON.stringify({ title: a.title, body: a.body || "" }),
      });
      return `Created ${line(r)}`;
    }
    default:
      throw "`action` must be search, list or create";
  }
}
