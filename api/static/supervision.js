// E-supervision without blind spots: overdue against the committed and the statutory limit apart,
// near-due, suspended cases (since when, how long, why), cases whose deadline no published
// calendar dates (clock.calendar_unknown), figures per unit / person / matter over a date range
// with CSV export, a case's timeline on click, and a 督办 signed with the supervisor's own key.
"use strict";

(() => {
  const { el, table, request } = CL;
  const STATUS = CL.STATUS_TEXT;
  const CARD = { red: "红牌", yellow: "黄牌" };
  const UNKNOWN = "clock.calendar_unknown";
  let session = null;
  let key = null;

  const dash = (value) => (value === null || value === undefined || value === "" ? "—" : String(value));
  const percent = (rate) => (rate === null || rate === undefined ? "—" : (rate * 100).toFixed(1) + "%");

  function deadlineCell(timing) {
    if (timing.committed_deadline) return timing.committed_deadline;
    if ((timing.warnings || []).includes(UNKNOWN)) {
      return el("span", { class: "calendar-unknown", title: UNKNOWN },
        `未定（${(timing.unknown_years || []).join("、")}年工作日历未发布）`);
    }
    return timing.paused ? "暂停计时" : "—";
  }

  function caseCells(item) {
    const timing = item.timing || {};
    const number = el("a", { href: "#timeline", class: "case-link" }, item.case_number);
    number.addEventListener("click", (event) => { event.preventDefault(); showTimeline(item); });
    return [
      el("td", {}, number), el("td", {}, item.matter_name || item.matter), el("td", {}, item.unit || "—"),
      el("td", {}, STATUS[item.status] || item.status),
    ];
  }

  function orderButton(item) {
    const button = el("button", { type: "button", class: "order", "data-case": item.case_number }, "督办");
    button.addEventListener("click", () => order(item));
    return el("td", { class: "action" }, button);
  }

  function caseRow(item) {
    const timing = item.timing || {};
    return el("tr", { "data-case-id": item.case_id }, ...caseCells(item),
      el("td", {}, item.next_step ? `${CL.STEP_TEXT[item.next_step] || item.next_step}（${CL.ROLE_TEXT[item.next_role] || item.next_role}）` : "—"),
      el("td", {}, deadlineCell(timing)), el("td", {}, dash(timing.statutory_deadline)),
      el("td", {}, dash(timing.remaining_days)),
      el("td", { class: timing.card ? "card-" + timing.card : "" }, CARD[timing.card] || ""),
      el("td", { class: timing.statutory_overdue ? "card-statutory" : "" }, timing.statutory_overdue ? "超法定期限" : ""),
      el("td", {}, (timing.overran_stages || []).join("、")),
      el("td", {}, timing.extended_days ? `延期 ${timing.extended_days} 日` : ""),
      orderButton(item));
  }

  function suspendedRow(entry) {
    const item = entry.case;
    return el("tr", { "data-case-id": item.case_id }, ...caseCells(item),
      el("td", {}, dash(entry.since)), el("td", {}, `${entry.calendar_days} 天（${entry.working_days} 个工作日）`),
      el("td", { class: "reason" }, dash(entry.reason)), el("td", {}, String((item.timing || {}).used_days || 0)),
      orderButton(item));
  }

  const CASE_HEADINGS = ["受理号", "事项", "单位", "状态", "下一步", "承诺办结期限", "法定期限", "剩余工作日",
    "提醒", "法定超期", "超时环节", "延期", ""];
  const SUSPENDED_HEADINGS = ["受理号", "事项", "单位", "状态", "中止日期", "已中止", "中止原因", "已用工作日", ""];

  function figuresRow(by, row) {
    return el("tr", {}, el("td", {}, row[by]), el("td", {}, row.cases), el("td", {}, row.decided),
      el("td", {}, row.decided_late), el("td", {}, percent(row.on_time_rate)),
      el("td", {}, row.decided_past_statutory), el("td", {}, percent(row.statutory_on_time_rate)),
      el("td", {}, row.open), el("td", {}, row.open_overdue), el("td", {}, row.suspended),
      el("td", {}, row.yellow_cards), el("td", {}, row.extended), el("td", {}, row.calendar_unknown));
  }

  const BY_TEXT = { unit: "单位", person: "人员", matter: "事项" };

  function filters() {
    const params = new URLSearchParams();
    const matter = document.getElementById("filter-matter").value.trim();
    const unit = document.getElementById("filter-unit").value.trim();
    if (matter) params.set("matter", matter);
    if (unit) params.set("unit", unit);
    return params.toString() ? "?" + params : "";
  }

  function range() {
    const params = new URLSearchParams({ by: document.getElementById("figures-by").value });
    const from = document.getElementById("figures-from").value;
    const to = document.getElementById("figures-to").value;
    if (from) params.set("from", from);
    if (to) params.set("to", to);
    return params;
  }

  const get = (path) => request("GET", path, { token: session.token });

  async function loadFigures() {
    const params = range();
    const by = params.get("by");
    const figures = await get("/v1/supervision/figures?" + params);
    document.getElementById("figures").replaceChildren(
      el("p", { class: "hint" }, `统计日期：${figures.as_of}；决定日期 ${figures.date_from || "不限"} 至 ${figures.date_to || "不限"}`),
      table([BY_TEXT[by], "办件", "已决定", "超承诺期限", "承诺按时率", "超法定期限", "法定按时率", "在办", "在办超期",
        "中止", "黄牌", "延期", "期限未定"], figures.rows.map((row) => figuresRow(by, row))));
  }

  async function load() {
    const query = filters();
    const joiner = query ? "&" : "?";
    try {
      const [overdue, statutory, near, suspended, unknown] = await Promise.all([
        get("/v1/supervision/overdue" + query), get("/v1/supervision/overdue" + query + joiner + "against=statutory"),
        get("/v1/supervision/near-due" + query), get("/v1/supervision/suspended" + query),
        get("/v1/supervision/calendar-unknown" + query)]);
      document.getElementById("overdue").replaceChildren(table(CASE_HEADINGS, overdue.cases.map(caseRow)));
      document.getElementById("statutory").replaceChildren(table(CASE_HEADINGS, statutory.cases.map(caseRow)));
      document.getElementById("near-due").replaceChildren(table(CASE_HEADINGS, near.cases.map(caseRow)));
      document.getElementById("suspended").replaceChildren(table(SUSPENDED_HEADINGS, suspended.cases.map(suspendedRow)));
      document.getElementById("calendar-unknown").replaceChildren(table(CASE_HEADINGS, unknown.cases.map(caseRow)));
      const years = [...new Set(unknown.cases.flatMap((c) => (c.timing || {}).unknown_years || []))].sort();
      document.getElementById("calendar-warning").replaceChildren(years.length
        ? el("p", { class: "notice warn", "data-code": UNKNOWN },
          `${UNKNOWN}：${years.join("、")}年工作日历尚未发布，${unknown.cases.length} 件案件的办理期限无法确定。` +
          "请管理员发布该年度日历（caseledger calendar publish）。")
        : "");
      await loadFigures();
    } catch (error) {
      const message = error.status === 403 ? "需要监察人员角色。" : `${error.code || ""} ${error.message}`;
      document.getElementById("overdue").replaceChildren(el("p", { class: "notice bad" }, message));
    }
  }

  async function showTimeline(item) {
    const detail = await get(`/v1/cases/${item.case_id}`);
    document.getElementById("timeline-title").hidden = false;
    document.getElementById("timeline").replaceChildren(
      el("p", {}, `${item.case_number} · ${item.matter_name || item.matter}`),
      table(["序号", "时间", "步骤", "签名人", "角色"], detail.history.map((step) =>
        el("tr", {}, el("td", {}, step.seq), el("td", {}, CL.chinaTime(step.at)),
          el("td", {}, CL.STEP_TEXT[step.type] || step.type), el("td", {}, step.actor.id),
          el("td", {}, CL.ROLE_TEXT[step.actor.role] || step.actor.role)))));
  }

  function report(message, ok) {
    document.getElementById("order-result").replaceChildren(
      el("p", { class: ok ? "notice good" : "notice bad" }, message));
  }

  async function order(item) {
    const text = window.prompt(`督办 ${item.case_number}：督办意见`, "请说明办理情况并按期办结。");
    if (!text) return;
    try {
      const answer = await get(`/v1/cases/${item.case_id}/next?type=SupervisionOrdered`);
      const draft = Object.assign({}, answer.draft, { body: { order: text, due: null } });
      const signed = await CL.signEnvelope(key, draft);
      const done = await request("POST", "/v1/envelopes", { raw: signed });
      report(`已签名督办：${item.case_number}（第 ${done.seq} 步，哈希 ${done.hash.slice(0, 16)}…）`, true);
    } catch (error) {
      report(`督办未能提交：${error.code || ""} ${error.message}`, false);
    }
  }

  async function download(path, name) {
    const response = await fetch(path, { headers: { Authorization: "Bearer " + session.token } });
    if (!response.ok) { report(`导出失败：HTTP ${response.status}`, false); return; }
    const link = el("a", { href: URL.createObjectURL(await response.blob()), download: name });
    document.body.append(link);
    link.click();
    link.remove();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("refresh").addEventListener("click", load);
    document.getElementById("figures-refresh").addEventListener("click", () => loadFigures().catch(
      (error) => report(`${error.code || ""} ${error.message}`, false)));
    document.getElementById("export-figures").addEventListener("click", () =>
      download("/v1/supervision/export.csv?list=figures&" + range(), "supervision-figures.csv"));
    document.getElementById("export-open").addEventListener("click", () =>
      download("/v1/supervision/export.csv?list=open", "supervision-open.csv"));
    document.getElementById("export-figures-xlsx").addEventListener("click", () =>
      download("/v1/supervision/export.xlsx?list=figures&" + range(), "supervision-figures.xlsx"));
    document.getElementById("export-open-xlsx").addEventListener("click", () =>
      download("/v1/supervision/export.xlsx?list=open", "supervision-open.xlsx"));
    CL.setupSignIn((record, current) => { key = record; session = current; load(); });
  });
})();
